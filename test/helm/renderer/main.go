// Command helm-render renders a Helm chart the way `helm template` does, without the helm binary.
//
// It implements the parts of Helm's engine that the otel-audit chart and the chart tests need:
// Go text/template with sprig's TxtFuncMap minus env and expandenv; Helm's own functions (include,
// tpl, required, toYaml, fromYaml, fromYamlArray, toJson, fromJson, fromJsonArray, lookup returning
// an empty map); .Values (chart values coalesced with the values files as Helm does, including
// subcharts, their aliases, conditions and globals), .Release, .Chart, .Capabilities, .Files and
// .Template; missingkey=zero with "<no value>" removed; partials (files starting with "_") not
// rendered; the manifests sorted by kind in Helm's install order and printed as
// "---\n# Source: <chart>/templates/<file>\n<manifest>\n".
//
// Build (GOPATH mode, Debian packages golang-go golang-github-masterminds-sprig-dev
// golang-k8s-sigs-yaml-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o test/helm/.bin/helm-render ./test/helm/renderer
//
// Usage:
//
//	helm-render [-name RELEASE] [-namespace NS] [-kube-version 1.30.0] [-api-versions a,b] [-f values.yaml ...] [-show-values] [-notes] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// ---- chart loading ----------------------------------------------------------------------------

// Dependency is one entry of Chart.yaml's dependencies.
type Dependency struct {
	Name       string   `json:"name"`
	Version    string   `json:"version,omitempty"`
	Repository string   `json:"repository,omitempty"`
	Condition  string   `json:"condition,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Enabled    bool     `json:"enabled,omitempty"`
	Alias      string   `json:"alias,omitempty"`
}

// Maintainer of a chart.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Metadata is Chart.yaml, with the field names templates see as .Chart.<Field>.
type Metadata struct {
	Name         string            `json:"name,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Maintainers  []*Maintainer     `json:"maintainers,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Condition    string            `json:"condition,omitempty"`
	Tags         string            `json:"tags,omitempty"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Dependencies []*Dependency     `json:"dependencies,omitempty"`
	Type         string            `json:"type,omitempty"`
}

// Chart is a loaded chart directory.
type Chart struct {
	Meta      *Metadata
	Templates map[string]string // "templates/x.yaml" -> text
	Values    map[string]interface{}
	Files     Files // every other file, by path relative to the chart
	Deps      []*Chart
	parent    *Chart
	dep       *Dependency // how the parent refers to it (nil for the top chart)
}

// Name is the chart's name as templates see it (the alias for an aliased dependency).
func (c *Chart) Name() string { return c.Meta.Name }

// FullPath is the chart's path as Helm names templates: parent/charts/child.
func (c *Chart) FullPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.FullPath() + "/charts/" + c.Name()
}

func loadChart(dir string) (*Chart, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	meta := &Metadata{}
	if err := yaml.Unmarshal(raw, meta); err != nil {
		return nil, fmt.Errorf("%s/Chart.yaml: %w", dir, err)
	}
	if meta.APIVersion != "v2" {
		return nil, fmt.Errorf("%s/Chart.yaml: apiVersion must be v2", dir)
	}
	if meta.Name == "" || meta.Version == "" {
		return nil, fmt.Errorf("%s/Chart.yaml: name and version are required", dir)
	}
	if _, err := semver.NewVersion(meta.Version); err != nil {
		return nil, fmt.Errorf("%s/Chart.yaml: version %q is not semver: %w", dir, meta.Version, err)
	}
	ch := &Chart{Meta: meta, Templates: map[string]string{}, Values: map[string]interface{}{}, Files: Files{}}
	if raw, err := os.ReadFile(filepath.Join(dir, "values.yaml")); err == nil {
		if ch.Values, err = readValues(raw); err != nil {
			return nil, fmt.Errorf("%s/values.yaml: %w", dir, err)
		}
	}
	ignore := readHelmignore(dir)
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if info.IsDir() {
			if rel == "charts" || ignore(rel, true) {
				return filepath.SkipDir
			}
			return nil
		}
		if ignore(rel, false) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.HasPrefix(rel, "templates/") {
			ch.Templates[rel] = string(data)
		} else if rel != "Chart.yaml" && rel != "values.yaml" && rel != "values.schema.json" && rel != "Chart.lock" {
			ch.Files[rel] = data
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Dependencies: listed ones (file:// repositories or charts/<name>/), then unlisted charts/<dir>/.
	seen := map[string]bool{}
	for _, d := range meta.Dependencies {
		var depDir string
		switch {
		case strings.HasPrefix(d.Repository, "file://"):
			depDir = filepath.Join(dir, strings.TrimPrefix(d.Repository, "file://"))
		default:
			depDir = filepath.Join(dir, "charts", d.Name)
		}
		sub, err := loadChart(depDir)
		if err != nil {
			return nil, fmt.Errorf("dependency %s: %w (this renderer needs file:// dependencies or unpacked charts/<name>/)", d.Name, err)
		}
		if sub.Meta.Name != d.Name {
			return nil, fmt.Errorf("dependency %s: the chart in %s is named %s", d.Name, depDir, sub.Meta.Name)
		}
		if d.Version != "" {
			c, err := semver.NewConstraint(d.Version)
			if err != nil {
				return nil, fmt.Errorf("dependency %s: version %q: %w", d.Name, d.Version, err)
			}
			if !c.Check(semver.MustParse(sub.Meta.Version)) {
				return nil, fmt.Errorf("dependency %s: chart version %s does not satisfy %s", d.Name, sub.Meta.Version, d.Version)
			}
		}
		seen[filepath.Clean(depDir)] = true
		if d.Alias != "" {
			sub.Meta.Name = d.Alias
		}
		sub.parent, sub.dep = ch, d
		ch.Deps = append(ch.Deps, sub)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "charts"))
	for _, e := range entries {
		p := filepath.Join(dir, "charts", e.Name())
		if !e.IsDir() || seen[filepath.Clean(p)] {
			continue
		}
		sub, err := loadChart(p)
		if err != nil {
			return nil, err
		}
		sub.parent = ch
		ch.Deps = append(ch.Deps, sub)
	}
	return ch, nil
}

// readHelmignore supports the common .helmignore forms: comments, `dir/`, globs on the base name
// or on the relative path, and `!` negation is not supported.
func readHelmignore(dir string) func(rel string, isDir bool) bool {
	raw, err := os.ReadFile(filepath.Join(dir, ".helmignore"))
	var patterns []string
	if err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			l = strings.TrimSpace(l)
			if l != "" && !strings.HasPrefix(l, "#") {
				patterns = append(patterns, l)
			}
		}
	}
	return func(rel string, isDir bool) bool {
		if rel == ".helmignore" {
			return true
		}
		for _, p := range patterns {
			dirOnly := strings.HasSuffix(p, "/")
			p = strings.TrimSuffix(p, "/")
			if dirOnly && !isDir {
				continue
			}
			if ok, _ := path.Match(p, path.Base(rel)); ok {
				return true
			}
			if ok, _ := path.Match(p, rel); ok {
				return true
			}
		}
		return false
	}
}

// readValues parses YAML as Helm does (through JSON: numbers become float64).
func readValues(data []byte) (map[string]interface{}, error) {
	vals := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, err
	}
	if vals == nil {
		vals = map[string]interface{}{}
	}
	return vals, nil
}

// ---- values: Helm's coalescing ------------------------------------------------------------------

func isMap(v interface{}) bool { _, ok := v.(map[string]interface{}); return ok }

// mergeUser merges user-supplied values files: later files win, maps merge deeply.
func mergeUser(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sv, ok := v.(map[string]interface{}); ok {
			if dv, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = mergeUser(dv, sv)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

// coalesceValues puts the chart's defaults under dest (dest wins; a null in dest deletes the key).
func coalesceValues(chartVals, dest map[string]interface{}) {
	for k, v := range chartVals {
		dv, present := dest[k]
		if !present {
			dest[k] = deepCopy(v)
			continue
		}
		if dv == nil {
			delete(dest, k)
			continue
		}
		if cm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dv.(map[string]interface{}); ok {
				coalesceTables(dm, cm)
			}
		}
	}
	for k, v := range dest {
		if v == nil {
			delete(dest, k)
		}
	}
}

func coalesceTables(dst, src map[string]interface{}) {
	for k, sv := range src {
		dv, present := dst[k]
		if !present {
			dst[k] = deepCopy(sv)
			continue
		}
		if dv == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := sv.(map[string]interface{}); ok {
			if dm, ok := dv.(map[string]interface{}); ok {
				coalesceTables(dm, sm)
			}
		}
	}
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, x := range t {
			out[k] = deepCopy(x)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, x := range t {
			out[i] = deepCopy(x)
		}
		return out
	default:
		return v
	}
}

func coalesce(ch *Chart, dest map[string]interface{}) {
	coalesceValues(ch.Values, dest)
	for _, sub := range ch.Deps {
		sv, ok := dest[sub.Name()].(map[string]interface{})
		if !ok {
			sv = map[string]interface{}{}
			dest[sub.Name()] = sv
		}
		// Globals flow from parent to child; the child's own globals fill the gaps.
		pg, _ := dest["global"].(map[string]interface{})
		cg, _ := sv["global"].(map[string]interface{})
		if cg == nil {
			cg = map[string]interface{}{}
		}
		for k, v := range pg {
			if _, ok := cg[k]; !ok {
				cg[k] = deepCopy(v)
			}
		}
		sv["global"] = cg
		coalesce(sub, sv)
	}
	if _, ok := dest["global"]; !ok {
		dest["global"] = map[string]interface{}{}
	}
}

// pathValue looks up a dotted path ("otelAudit.enabled") in values.
func pathValue(vals map[string]interface{}, p string) (interface{}, bool) {
	var cur interface{} = vals
	for _, part := range strings.Split(p, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// dropDisabled removes dependencies whose condition is false in the top-level values.
func dropDisabled(ch *Chart, topVals map[string]interface{}, prefix string) {
	var kept []*Chart
	for _, sub := range ch.Deps {
		if sub.dep != nil && sub.dep.Condition != "" {
			enabled := true
			for _, cond := range strings.Split(sub.dep.Condition, ",") {
				if v, ok := pathValue(topVals, prefix+strings.TrimSpace(cond)); ok {
					if b, isBool := v.(bool); isBool {
						enabled = b
						break
					}
				}
			}
			if !enabled {
				continue
			}
		}
		dropDisabled(sub, topVals, prefix+sub.Name()+".")
		kept = append(kept, sub)
	}
	ch.Deps = kept
}

// ---- template objects ---------------------------------------------------------------------------

// Files gives templates access to the chart's non-template files (.Files).
type Files map[string][]byte

// Get returns a file's content as a string ("" if missing).
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes returns a file's content.
func (f Files) GetBytes(name string) []byte { return f[name] }

// Glob returns the files whose path matches the pattern (path.Match syntax).
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// Lines returns a file's lines.
func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// AsConfig renders the files as ConfigMap data (YAML, base names as keys).
func (f Files) AsConfig() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has reports whether an API version (or version/Kind) is available.
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// Capabilities is .Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

// defaultAPIVersions are the built-in API groups of Kubernetes 1.30 that charts commonly test for.
var defaultAPIVersions = []string{
	"v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1", "apiregistration.k8s.io/v1",
	"apps/v1", "authentication.k8s.io/v1", "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2",
	"batch/v1", "certificates.k8s.io/v1", "coordination.k8s.io/v1", "discovery.k8s.io/v1",
	"events.k8s.io/v1", "flowcontrol.apiserver.k8s.io/v1", "networking.k8s.io/v1", "node.k8s.io/v1",
	"policy/v1", "rbac.authorization.k8s.io/v1", "scheduling.k8s.io/v1", "storage.k8s.io/v1",
}

// ---- helm functions -----------------------------------------------------------------------------

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warn)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warn)
	}
	return val, nil
}

const recursionMaxNums = 1000

type engine struct {
	t         *template.Template
	includes  map[string]int
	templates map[string]map[string]interface{} // template name -> its top-level object
}

func (e *engine) funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	f["toToml"] = func(interface{}) (string, error) { return "", errors.New("toToml is not supported by this renderer") }
	f["toYaml"] = toYAML
	f["fromYaml"] = fromYAML
	f["fromYamlArray"] = fromYAMLArray
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["fromJsonArray"] = fromJSONArray
	f["required"] = required
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		if e.includes[name] > recursionMaxNums {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		e.includes[name]++
		defer func() { e.includes[name]-- }()
		var buf strings.Builder
		if err := e.t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := e.t.Clone()
		if err != nil {
			return "", err
		}
		t.Option("missingkey=zero")
		name := "tpl"
		if m, ok := data.(map[string]interface{}); ok {
			if tm, ok := m["Template"].(map[string]interface{}); ok {
				if n, ok := tm["Name"].(string); ok {
					name = n
				}
			}
		}
		if _, err := t.New(name).Parse(text); err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

// ---- rendering ----------------------------------------------------------------------------------

type renderable struct {
	name string // full path: chart/templates/x.yaml
	text string
	vals map[string]interface{}
}

func collect(ch *Chart, vals map[string]interface{}, top map[string]interface{}, out *[]renderable) {
	chartObj := chartObject(ch.Meta)
	for rel, text := range ch.Templates {
		name := ch.FullPath() + "/" + rel
		obj := map[string]interface{}{}
		for k, v := range top {
			obj[k] = v
		}
		obj["Values"] = vals
		obj["Chart"] = chartObj
		obj["Files"] = ch.Files
		obj["Template"] = map[string]interface{}{"Name": name, "BasePath": ch.FullPath() + "/templates"}
		*out = append(*out, renderable{name: name, text: text, vals: obj})
	}
	for _, sub := range ch.Deps {
		sv, _ := vals[sub.Name()].(map[string]interface{})
		collect(sub, sv, top, out)
	}
}

// chartObject exposes the metadata with Helm's capitalised field names.
func chartObject(m *Metadata) map[string]interface{} {
	return map[string]interface{}{
		"Name": m.Name, "Home": m.Home, "Sources": m.Sources, "Version": m.Version,
		"Description": m.Description, "Keywords": m.Keywords, "Maintainers": m.Maintainers, "Icon": m.Icon,
		"APIVersion": m.APIVersion, "Condition": m.Condition, "Tags": m.Tags, "AppVersion": m.AppVersion,
		"Deprecated": m.Deprecated, "Annotations": m.Annotations, "KubeVersion": m.KubeVersion,
		"Dependencies": m.Dependencies, "Type": m.Type,
	}
}

// depth sorts deeper (subchart) templates first so that the parent's defines win, as Helm does.
func sortForParsing(r []renderable) {
	sort.SliceStable(r, func(i, j int) bool {
		di, dj := strings.Count(r[i].name, "/"), strings.Count(r[j].name, "/")
		if di != dj {
			return di > dj
		}
		return r[i].name < r[j].name
	})
}

func render(rs []renderable) (map[string]string, error) {
	e := &engine{includes: map[string]int{}}
	e.t = template.New("gotpl").Option("missingkey=zero").Funcs(e.funcMap())
	sortForParsing(rs)
	for _, r := range rs {
		if _, err := e.t.New(r.name).Parse(r.text); err != nil {
			return nil, fmt.Errorf("parse error in %s: %w", r.name, err)
		}
	}
	out := map[string]string{}
	for _, r := range rs {
		if strings.HasPrefix(path.Base(r.name), "_") {
			continue
		}
		var buf strings.Builder
		if err := e.t.ExecuteTemplate(&buf, r.name, r.vals); err != nil {
			return nil, cleanupError(err)
		}
		out[r.name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

// cleanupError shortens text/template's errors the way Helm shows `fail` and `required` messages.
func cleanupError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "error calling fail: "); i >= 0 {
		return fmt.Errorf("execution error: %s", msg[i+len("error calling fail: "):])
	}
	if i := strings.Index(msg, "error calling required: "); i >= 0 {
		return fmt.Errorf("execution error: %s", msg[i+len("error calling required: "):])
	}
	return err
}

// ---- output: Helm's manifest sorting --------------------------------------------------------------

var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
	"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
	"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
}

var docSeparator = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

type manifest struct {
	source  string
	content string
	kind    string
}

func sortManifests(files map[string]string) ([]manifest, error) {
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []manifest
	for _, n := range names {
		if strings.HasSuffix(n, "NOTES.txt") {
			continue
		}
		content := files[n]
		if strings.TrimSpace(content) == "" {
			continue
		}
		for _, d := range docSeparator.Split(strings.TrimSpace(content), -1) {
			if d == "" {
				continue
			}
			d = strings.TrimSpace(d)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
				Metadata   *struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			}
			if err := yaml.Unmarshal([]byte(d), &head); err != nil {
				return nil, fmt.Errorf("YAML parse error on %s: %w", n, err)
			}
			if head.Metadata != nil && head.Metadata.Annotations["helm.sh/hook"] != "" {
				continue // hooks are not part of the manifest (helm template prints them separately)
			}
			out = append(out, manifest{source: n, content: d, kind: head.Kind})
		}
	}
	order := map[string]int{}
	for i, k := range installOrder {
		order[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, aok := order[out[i].kind]
		b, bok := order[out[j].kind]
		switch {
		case !aok && !bok:
			return out[i].kind < out[j].kind
		case !aok:
			return false
		case !bok:
			return true
		default:
			return a < b
		}
	})
	return out, nil
}

// ---- main -----------------------------------------------------------------------------------------

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	var valueFiles multiFlag
	name := flag.String("name", "release-name", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "1.30.0", "Kubernetes version for .Capabilities")
	apiVersions := flag.String("api-versions", "", "extra API versions for .Capabilities.APIVersions (comma-separated)")
	showValues := flag.Bool("show-values", false, "print the coalesced values as JSON instead of rendering")
	notes := flag.Bool("notes", false, "print the rendered NOTES.txt of the top chart after the manifests")
	flag.Var(&valueFiles, "f", "values file (repeatable; later files win)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: helm-render [flags] CHART_DIR")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), valueFiles, *name, *namespace, *kubeVersion, *apiVersions, *showValues, *notes); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}

func run(dir string, valueFiles []string, name, namespace, kubeVersion, apiVersions string, showValues, notes bool) error {
	ch, err := loadChart(dir)
	if err != nil {
		return err
	}
	user := map[string]interface{}{}
	for _, f := range valueFiles {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		v, err := readValues(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		user = mergeUser(user, v)
	}
	// Conditions are evaluated on the parent's values with the user's values over them.
	probe := deepCopy(user).(map[string]interface{})
	coalesceValues(ch.Values, probe)
	dropDisabled(ch, probe, "")
	vals := user
	coalesce(ch, vals)
	if showValues {
		data, err := json.MarshalIndent(vals, "", "  ")
		if err != nil {
			return err
		}
		fmt.Println(string(data))
		return nil
	}

	kv, err := semver.NewVersion(kubeVersion)
	if err != nil {
		return fmt.Errorf("invalid kube-version %q: %w", kubeVersion, err)
	}
	if err := checkKubeVersion(ch, kv); err != nil {
		return err
	}
	apis := append(VersionSet{}, defaultAPIVersions...)
	for _, a := range strings.Split(apiVersions, ",") {
		if a = strings.TrimSpace(a); a != "" {
			apis = append(apis, a)
		}
	}
	top := map[string]interface{}{
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false,
			"Revision": 1,
		},
		"Capabilities": &Capabilities{
			KubeVersion: KubeVersion{
				Version: "v" + kv.String(), Major: fmt.Sprint(kv.Major()), Minor: fmt.Sprint(kv.Minor()),
				GitVersion: "v" + kv.String(),
			},
			APIVersions: apis,
			HelmVersion: map[string]string{"Version": "v3.16.0"},
		},
	}
	var rs []renderable
	collect(ch, vals, top, &rs)
	files, err := render(rs)
	if err != nil {
		return err
	}
	manifests, err := sortManifests(files)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, m := range manifests {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	if notes {
		if n, ok := files[ch.FullPath()+"/templates/NOTES.txt"]; ok {
			fmt.Fprintf(&b, "\nNOTES:\n%s\n", strings.TrimSpace(n))
		}
	}
	_, err = os.Stdout.Write(b.Bytes())
	return err
}

func checkKubeVersion(ch *Chart, kv *semver.Version) error {
	if ch.Meta.KubeVersion != "" {
		c, err := semver.NewConstraint(ch.Meta.KubeVersion)
		if err != nil {
			return fmt.Errorf("chart %s: invalid kubeVersion %q: %w", ch.Meta.Name, ch.Meta.KubeVersion, err)
		}
		if !c.Check(kv) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes v%s", ch.Meta.KubeVersion, kv)
		}
	}
	for _, sub := range ch.Deps {
		if err := checkKubeVersion(sub, kv); err != nil {
			return err
		}
	}
	return nil
}

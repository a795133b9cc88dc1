/**
 * Format `json`: the CloudEvents-like envelopes SAP's CAP plugin posts to
 * `POST {url}/ingestion/v1/events` (reference §6.3): a JSON array, one envelope per NG event,
 * `source` = `/<region>/<namespace>/<tenant>`, `data.metadata` (the v1 catalog's Metadata) and
 * `data.data.<type>` with the event's fields. Unlike the CAP plugin, `time` and `metadata.ts` are
 * the event's time (not the send time) and ids are derived from the record, so a resend is the
 * same request.
 */
import { formatSapTime, type NgEvent, type NgJsonType } from '@otel-audit/semconv';
import { appContextOf, type NgRecordInput, type NgSender } from './ng-common.js';

/** `specversion` as the Node.js CAP plugin sends it (a number; CAP Java sends `"1.0"`). */
const SPEC_VERSION = 1;
const PLATFORM = { other: { platformName: 'otel-audit' } };
export const MIME_JSON = 'application/json';

function payload(type: NgJsonType, input: NgRecordInput, e: NgEvent): Record<string, unknown> {
  switch (type) {
    case 'dppDataAccess': {
      const p: Record<string, unknown> = {
        channelType: e.channelType,
        channelId: e.channelId,
        dataSubjectType: e.dataSubjectType,
        dataSubjectId: e.dataSubjectId,
        objectType: e.objectType,
        objectId: e.objectId,
        attribute: e.attribute,
      };
      if (e.attachmentId !== undefined) {
        p['attachmentType'] = e.attachmentType;
        p['attachmentId'] = e.attachmentId;
      }
      return p;
    }
    case 'dppDataModification':
      return {
        objectType: e.objectType,
        objectId: e.objectId,
        attribute: e.attribute,
        oldValue: e.oldValue ?? '',
        newValue: e.newValue ?? '',
        dataSubjectType: e.dataSubjectType,
        dataSubjectId: e.dataSubjectId,
      };
    case 'configurationChange':
      return {
        propertyName: e.attribute,
        oldValue: e.oldValue ?? '',
        newValue: e.newValue ?? '',
        objectType: e.objectType,
        objectId: e.objectId,
      };
    case 'legacySecurityWrapper':
      return { origEvent: JSON.stringify(input.ng.message) };
  }
}

/** One envelope. */
export function envelope(input: NgRecordInput, e: NgEvent, sender: NgSender): Record<string, unknown> {
  const type = input.ng.rules.jsonType;
  const time = formatSapTime(input.timeMs);
  const metadata: Record<string, unknown> = { ts: time };
  if (input.ng.sourceIp !== undefined) metadata['sourceIp'] = [input.ng.sourceIp];
  metadata['userInitiatorId'] = input.ng.user;
  metadata['appId'] = sender.appId ?? 'default app';
  metadata['tenantId'] = input.tenantId;
  const context = appContextOf(e);
  if (context !== undefined) metadata['appContext'] = context;
  metadata['infrastructure'] = sender.infrastructure;
  metadata['platform'] = PLATFORM;
  return {
    id: e.id,
    specversion: SPEC_VERSION,
    source: `/${sender.region}/${sender.namespace}/${input.tenantId}`,
    type,
    time,
    data: { metadata, data: { [type]: payload(type, input, e) } },
  };
}

/** The envelopes of one record, each as JSON text (joined into the request's array by the caller). */
export function envelopesJson(input: NgRecordInput, sender: NgSender): string[] {
  return input.ng.events.map((e) => JSON.stringify(envelope(input, e, sender)));
}

/**
 * `metadata.infrastructure`: Cloud Foundry's org, space and app from `VCAP_APPLICATION`, the pod
 * and node on Kubernetes (`HOSTNAME`, `K8S_NODE_NAME` as the Helm chart sets it), otherwise the
 * runtime.
 */
export function infrastructureOf(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const vcap = env['VCAP_APPLICATION'];
  if (vcap) {
    try {
      const app = JSON.parse(vcap) as Record<string, unknown>;
      const cf: Record<string, string> = {};
      if (typeof app['cf_api'] === 'string') {
        const region = /api\.cf\.([a-z0-9-]+)\./.exec(app['cf_api'])?.[1];
        if (region !== undefined) cf['btpregion'] = region;
      }
      if (typeof app['organization_id'] === 'string') cf['orgId'] = app['organization_id'];
      if (typeof app['space_id'] === 'string') cf['spaceId'] = app['space_id'];
      if (typeof app['application_id'] === 'string') cf['appId'] = app['application_id'];
      return { cf };
    } catch {
      // not JSON: fall through to the runtime
    }
  }
  if (env['KUBERNETES_SERVICE_HOST']) {
    const k8s: Record<string, string> = {};
    if (env['K8S_NODE_NAME']) k8s['node'] = env['K8S_NODE_NAME'];
    if (env['HOSTNAME']) k8s['pod'] = env['HOSTNAME'];
    return { k8s };
  }
  return { other: { runtimeType: 'Node.js' } };
}

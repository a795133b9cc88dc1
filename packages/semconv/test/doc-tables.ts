/** The tables of docs/semantic-conventions.md that the rule table determines, as markdown lines. */
import { EVENT_KINDS, type EventKindRules } from '../src/event-types.js';
import { AttributeSuffix } from '../src/names.js';

const ROWS: readonly EventKindRules[] = Object.values(EVENT_KINDS);

const code = (s: string): string => `\`${s}\``;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map(() => '---|').join('')}`, ...rows.map(line)];
}

/** "Event types": name, endpoint, category and Python class of each kind. */
export function eventTypesTable(): string[] {
  return table(
    ['Event name', 'SAP endpoint', 'SAP category', 'SAP Cloud SDK for Python class'],
    ROWS.map((r) => [code(r.name), code(r.sapEndpoint), code(r.sapCategory), code(r.pythonClass)]),
  );
}

type Cell = (r: EventKindRules) => string;

const optional =
  (use: (r: EventKindRules) => 'optional' | 'unused', mark = 'O'): Cell =>
  (r) =>
    use(r) === 'optional' ? mark : '·';

const whenRequired =
  (use: (r: EventKindRules) => 'required' | 'unused', mark: string): Cell =>
  (r) =>
    use(r) === 'required' ? mark : '·';

const entry =
  (suffix: AttributeSuffix): Cell =>
  (r) =>
    r.entries.required.includes(suffix) ? 'R³' : r.entries.allowed.includes(suffix) ? 'O' : '·';

const MATRIX: readonly (readonly [string, Cell])[] = [
  [
    ['log.record.uid', 'user.id', 'audit.tenant', 'audit.tenant.subdomain', 'audit.custom.<k>'].map(code).join(', '),
    () => 'O',
  ],
  [code('audit.success'), (r) => (r.successInBody ? 'O' : 'O (local only)')],
  [code('client.address'), (r) => (r.clientAddress === 'optional' ? 'O' : 'ignored')],
  [code('audit.identity_provider'), optional((r) => r.identityProvider)],
  [code('audit.channel'), optional((r) => r.channel)],
  [code('audit.message.id'), optional((r) => r.messageId)],
  [code('audit.object.type'), whenRequired((r) => r.object, 'R')],
  [code('audit.object.id.<k>'), whenRequired((r) => r.object, 'R (≥1)')],
  [code('audit.data_subject.type'), whenRequired((r) => r.dataSubject, 'R¹')],
  [code('audit.data_subject.role'), whenRequired((r) => r.dataSubject, 'O')],
  [code('audit.data_subject.id.<k>'), whenRequired((r) => r.dataSubject, 'R¹ (≥1)')],
  [code('audit.attribute.names'), (r) => (r.attributeNames === 'required' ? 'R (≥1)' : 'O²')],
  [code('audit.attribute.<name>.value'), entry(AttributeSuffix.Value)],
  [code('audit.attribute.<name>.successful'), entry(AttributeSuffix.Successful)],
  [code('audit.attribute.<name>.old'), entry(AttributeSuffix.Old)],
  [code('audit.attribute.<name>.new'), entry(AttributeSuffix.New)],
  [code('audit.attachment.ids'), optional((r) => r.attachments)],
  [code('audit.attachment.names'), optional((r) => r.attachments, 'O⁴')],
];

/** "Which event type takes which attribute": one row per attribute, one column per kind. */
export function attributeMatrix(): string[] {
  return table(
    ['Attribute', ...ROWS.map((r) => r.name.slice('audit.'.length))],
    MATRIX.map(([label, cell]) => [label, ...ROWS.map(cell)]),
  );
}

/** "Attribute entries": the suffixes each kind accepts and requires. */
export function entrySuffixTable(): string[] {
  const list = (suffixes: readonly string[]): string => (suffixes.length === 0 ? '—' : suffixes.map(code).join(', '));
  return table(
    ['Event name', 'Suffixes accepted', 'Required for every listed name'],
    ROWS.map((r) => [code(r.name), list(r.entries.allowed), list(r.entries.required)]),
  );
}

/** "SAP Audit Log Service NG": what each kind is sent as in the two NG formats. */
export function ngTable(): string[] {
  return table(
    [
      'Event name',
      'format: otlp (`sap.auditlog.auditevent.v2.…`)',
      'format: json (envelope `type`)',
      'NG events per record',
    ],
    ROWS.map((r) => [
      code(r.name),
      code(r.ng.message),
      code(r.ng.jsonType),
      r.ng.perAttribute ? 'one per attribute' : 'one',
    ]),
  );
}

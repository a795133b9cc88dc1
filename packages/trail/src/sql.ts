import type { DuckDBValue } from '@duckdb/node-api';
import type { CountBy, Filters, Report } from './options.js';

export interface Statement {
  readonly sql: string;
  readonly params: DuckDBValue[];
  /** The result is one column of stored lines, printed as they are. */
  readonly lines?: boolean;
  /** The statement uses the `line` column. */
  readonly lineNumbers?: boolean;
}

export const ISO_TIME = "'%Y-%m-%dT%H:%M:%S.%gZ'";

/** The WHERE clause (with its parameters) for the filter options. */
export function whereClause(f: Filters): Statement {
  const terms: string[] = [];
  const params: DuckDBValue[] = [];
  const add = (term: string, ...values: DuckDBValue[]) => {
    terms.push(term);
    params.push(...values);
  };
  if (f.since !== undefined) add('time >= ?::TIMESTAMPTZ', f.since.toISOString());
  if (f.until !== undefined) add('time < ?::TIMESTAMPTZ', f.until.toISOString());
  if (f.category !== undefined) add('category = ?', f.category);
  if (f.user !== undefined) add('"user" = ?', f.user);
  if (f.tenant !== undefined) add('tenant = ?', f.tenant);
  if (f.objectType !== undefined) add("json_extract_string(message, '$.object.type') = ?", f.objectType);
  if (f.subject !== undefined) {
    // The single data subject, or any of the list form (`data_subjects`).
    const key = JSON.stringify(f.subject.key);
    add(
      `(json_extract_string(message, ?) = ? OR list_contains(json_extract_string(message, ?), ?))`,
      `$.data_subject.id.${key}`,
      f.subject.value,
      `$.data_subjects[*].id.${key}`,
      f.subject.value,
    );
  }
  if (f.text !== undefined) add('contains(lower(raw), lower(?))', f.text);
  return { sql: terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`, params };
}

const limitClause = (limit: number | undefined) => (limit === undefined ? '' : ` LIMIT ${limit}`);

/** `--sql`: it may use the `line` column if it names it or selects `*`. */
export function userSql(sql: string, limit: number | undefined): Statement {
  const body = sql.trim().replace(/;\s*$/, '');
  return {
    sql: limit === undefined ? body : `SELECT * FROM (${body}) LIMIT ${limit}`,
    params: [],
    lineNumbers: /\bline\b|\*/i.test(body),
  };
}

/** `query` with filters: the stored lines (json), the §8 columns (csv) or a readable summary (table). */
export function querySql(f: Filters, format: 'table' | 'json' | 'csv', limit: number | undefined): Statement {
  const where = whereClause(f);
  const columns =
    format === 'json'
      ? 'raw'
      : format === 'csv'
        ? `message_uuid, strftime(time, ${ISO_TIME}) AS time, category, tenant, "user", success, message, resource, file, line`
        : `strftime(time, ${ISO_TIME}) AS time, replace(category, 'audit.', '') AS category, "user", tenant, success, ` +
          `coalesce(json_extract_string(message, '$.data'), concat_ws(' ', json_extract_string(message, '$.object.type'), json_extract_string(message, '$.object.id')), '') AS what, message_uuid`;
  return {
    sql: `SELECT ${columns} FROM audit${where.sql} ORDER BY time, file${format === 'csv' ? ', line' : ''}${limitClause(limit)}`,
    params: where.params,
    lines: format === 'json',
    lineNumbers: format === 'csv',
  };
}

const COUNT_KEY: Record<CountBy, string> = {
  category: 'category',
  user: '"user"',
  tenant: 'tenant',
  day: "strftime(time, '%Y-%m-%d')",
  hour: "strftime(time, '%Y-%m-%dT%H:00Z')",
};

/** The SQL of a report; docs/trail.md shows the same queries (and their Splunk SPL). */
export function reportSql(report: Report, by: CountBy | undefined, f: Filters, limit: number | undefined): Statement {
  const where = whereClause(f);
  const and = (term: string) => (where.sql === '' ? ` WHERE ${term}` : `${where.sql} AND ${term}`);
  const lim = limitClause(limit);
  switch (report) {
    case 'counts': {
      const key = COUNT_KEY[by!];
      const order = by === 'day' || by === 'hour' ? '1' : 'count DESC, 1';
      return {
        sql: `SELECT ${key} AS ${by!}, count(*) AS count FROM audit${where.sql} GROUP BY 1 ORDER BY ${order}${lim}`,
        params: where.params,
      };
    }
    case 'last-logon':
      return {
        sql:
          `SELECT "user", strftime(max(time), ${ISO_TIME}) AS last_logon, count(*) AS logons FROM audit` +
          `${and("category = 'audit.security-events' AND success")} GROUP BY "user" ORDER BY max(time) DESC, "user"${lim}`,
        params: where.params,
      };
    case 'failed-logins':
      return {
        sql:
          `SELECT "user", count(*) AS failed, strftime(max(time), ${ISO_TIME}) AS last_failed FROM audit` +
          `${and("category = 'audit.security-events' AND success = false")} GROUP BY "user" ORDER BY failed DESC, "user"${lim}`,
        params: where.params,
      };
    case 'subjects':
      return {
        sql:
          `SELECT json_extract_string(s, '$.type') AS subject_type, json_extract(s, '$.id')::VARCHAR AS subject_id, ` +
          `count(*) FILTER (category = 'audit.data-access') AS accesses, ` +
          `count(*) FILTER (category = 'audit.data-modification') AS modifications, count(*) AS total ` +
          `FROM (SELECT category, unnest(CASE WHEN json_extract(message, '$.data_subjects') IS NOT NULL ` +
          `THEN json_extract(message, '$.data_subjects[*]') ELSE [json_extract(message, '$.data_subject')] END) AS s FROM audit` +
          `${and("category IN ('audit.data-access', 'audit.data-modification')")}) WHERE s IS NOT NULL ` +
          `GROUP BY 1, 2 ORDER BY total DESC, 1, 2${lim}`,
        params: where.params,
      };
  }
}

import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';

/** Longest line read (a local record is far smaller; the sidecar's record limits are well below). */
const MAX_LINE_BYTES = 64 * 1024 * 1024;

const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * One row per line of one file: the line's text, the file and its 1-based line number. Lines are
 * read as single CSV fields: the separator is a control character, which JSON text never holds
 * unescaped, so each line arrives whole and as stored. `.gz` files are decompressed on the fly.
 */
function linesOf(file: string, lineNumbers: boolean): string {
  // Numbering the lines costs a window over the scan (DuckDB keeps the file's order for it).
  return (
    `SELECT raw, ${literal(file)} AS file${lineNumbers ? ', row_number() OVER () AS line' : ''} FROM read_csv(${literal(file)}, ` +
    `columns = {'raw': 'VARCHAR'}, delim = '\\x1f', quote = '', escape = '', header = false, ` +
    `auto_detect = false, max_line_size = ${MAX_LINE_BYTES})`
  );
}

/**
 * The `audit` view: one row per local record in `files`, scanned in place at each query (no import).
 * Columns: message_uuid, time (TIMESTAMPTZ), category, tenant, user, success, message (JSON),
 * resource (JSON), file, line, and raw (the line as stored). Without `lineNumbers` there is no
 * `line` column, and scans are faster.
 */
export function auditViewSql(files: readonly string[], lineNumbers = true): string {
  const lines =
    files.length === 0
      ? `SELECT NULL::VARCHAR AS raw, NULL::VARCHAR AS file${lineNumbers ? ', NULL::BIGINT AS line' : ''} WHERE false`
      : files.map((f) => linesOf(f, lineNumbers)).join(' UNION ALL ');
  return (
    `CREATE OR REPLACE VIEW audit AS SELECT ` +
    `raw->>'$.message_uuid' AS message_uuid, TRY_CAST(raw->>'$.time' AS TIMESTAMPTZ) AS time, ` +
    `raw->>'$.category' AS category, raw->>'$.tenant' AS tenant, raw->>'$.user' AS "user", ` +
    `TRY_CAST(raw->>'$.success' AS BOOLEAN) AS success, json_extract(raw, '$.message') AS message, ` +
    `json_extract(raw, '$.resource') AS resource, file, ${lineNumbers ? 'line, ' : ''}raw ` +
    `FROM (${lines}) WHERE raw IS NOT NULL AND raw <> ''`
  );
}

export interface Column {
  readonly name: string;
  /** DuckDB type name, `JSON` for JSON columns. */
  readonly type: string;
}

export interface Rows {
  readonly columns: readonly Column[];
  /** Rows in chunks of about 2,048 (DuckDB's vector size), as DuckDB reads them. */
  readonly chunks: AsyncIterable<DuckDBValue[][]>;
}

export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  static async open(files: readonly string[], lineNumbers: boolean): Promise<Engine> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'; SET enable_progress_bar = true; SET enable_progress_bar_print = false");
    await connection.run(auditViewSql(files, lineNumbers));
    return new Engine(instance, connection);
  }

  /** Runs `sql` and yields its rows as they are produced, never the whole result at once. */
  async stream(sql: string, params: DuckDBValue[] = []): Promise<Rows> {
    const result = await this.connection.stream(sql, params);
    const columns = result.columnNames().map((name, i) => {
      const type = result.columnType(i);
      return { name, type: type.alias ?? type.toString() };
    });
    async function* chunks(): AsyncGenerator<DuckDBValue[][]> {
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) return;
        yield chunk.getRows();
      }
    }
    return { columns, chunks: chunks() };
  }

  /** Query progress in percent (-1 while unknown). */
  progress(): number {
    return this.connection.progress.percentage;
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

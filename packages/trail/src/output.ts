import type { DuckDBValue } from '@duckdb/node-api';
import type { Column } from './engine.js';
import type { Format } from './options.js';
import { jsonValue, textValue } from './values.js';

export interface Out {
  write(text: string): Promise<void>;
}

/** Writes to a stream, waiting when it is full (so a large result never piles up in memory). */
export function streamOut(stream: NodeJS.WritableStream): Out {
  return {
    write: (text) =>
      new Promise<void>((resolve, reject) => {
        if (stream.write(text)) resolve();
        else {
          stream.once('drain', resolve);
          stream.once('error', reject);
        }
      }),
  };
}

export interface RowWriter {
  rows(rows: readonly DuckDBValue[][]): Promise<void>;
  end(): Promise<number>;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function jsonWriter(out: Out, columns: readonly Column[]): RowWriter {
  let n = 0;
  return {
    async rows(rows) {
      let text = '';
      for (const row of rows) {
        const o: Record<string, unknown> = {};
        columns.forEach((c, i) => (o[c.name] = jsonValue(row[i]!, c.type === 'JSON')));
        text += `${JSON.stringify(o)}\n`;
      }
      n += rows.length;
      await out.write(text);
    },
    end: async () => n,
  };
}

export function csvWriter(out: Out, columns: readonly Column[]): RowWriter {
  let n = 0;
  let header = false;
  return {
    async rows(rows) {
      let text = header ? '' : `${columns.map((c) => csvField(c.name)).join(',')}\r\n`;
      header = true;
      for (const row of rows) text += `${row.map((v) => csvField(textValue(v))).join(',')}\r\n`;
      n += rows.length;
      await out.write(text);
    },
    async end() {
      if (!header) await out.write(`${columns.map((c) => csvField(c.name)).join(',')}\r\n`);
      return n;
    },
  };
}

/** Rows looked at to size the table's columns before the first is printed. */
const SIZING_ROWS = 500;
const MIN_WIDTH = 6;

function cell(s: string, width: number): string {
  const flat = s.replace(/[\r\n\t]+/g, ' ');
  if (flat.length <= width) return flat.padEnd(width);
  return `${flat.slice(0, Math.max(0, width - 1))}\u2026`;
}

/** Column widths that fit `total` characters: the widest columns give way first. */
export function fitWidths(natural: readonly number[], total: number): number[] {
  const widths = [...natural];
  const gaps = 2 * (widths.length - 1);
  while (widths.reduce((a, b) => a + b, 0) + gaps > total) {
    const widest = widths.indexOf(Math.max(...widths));
    if (widths[widest]! <= MIN_WIDTH) break;
    widths[widest]!--;
  }
  return widths;
}

/** An aligned table that fits `terminalWidth`; sized on the first rows, then streamed. */
export function tableWriter(out: Out, columns: readonly Column[], terminalWidth: number): RowWriter {
  let pending: string[][] = [];
  let widths: number[] | undefined;
  let n = 0;
  const line = (cells: readonly string[]) =>
    `${cells
      .map((c, i) => cell(c, widths![i]!))
      .join('  ')
      .trimEnd()}\n`;
  const start = async () => {
    const natural = columns.map((c, i) => Math.max(c.name.length, ...pending.map((r) => r[i]!.length)));
    widths = fitWidths(natural, terminalWidth);
    await out.write(line(columns.map((c) => c.name)) + pending.map(line).join(''));
    pending = [];
  };
  return {
    async rows(rows) {
      const cells = rows.map((r) => r.map(textValue));
      n += rows.length;
      if (widths === undefined) {
        pending.push(...cells);
        if (pending.length >= SIZING_ROWS) await start();
        return;
      }
      await out.write(cells.map(line).join(''));
    },
    async end() {
      if (widths === undefined) await start();
      return n;
    },
  };
}

/** The first column of each row, as is, one per line (stored local records). */
export function linesWriter(out: Out): RowWriter {
  let n = 0;
  return {
    async rows(rows) {
      n += rows.length;
      await out.write(rows.map((r) => `${String(r[0])}\n`).join(''));
    },
    end: async () => n,
  };
}

export function rowWriter(format: Format, out: Out, columns: readonly Column[], terminalWidth: number): RowWriter {
  if (format === 'json') return jsonWriter(out, columns);
  if (format === 'csv') return csvWriter(out, columns);
  return tableWriter(out, columns, terminalWidth);
}

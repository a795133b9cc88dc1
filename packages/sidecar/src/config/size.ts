import type { SchemaObject } from 'ajv';

/** A size: bytes as an integer, or a number with a unit (`512KiB`, `16MiB`, `1GiB`, `500MB`). */
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?\\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$';

export const SIZE_SCHEMA: SchemaObject = { type: 'string', pattern: SIZE_PATTERN };

/** `auto` or a size. */
export const AUTO_OR_SIZE_PATTERN = `^auto$|${SIZE_PATTERN}`;

export const AUTO_OR_SIZE_SCHEMA: SchemaObject = { type: 'string', pattern: AUTO_OR_SIZE_PATTERN };

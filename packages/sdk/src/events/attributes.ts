/** Attribute value objects, as in the SAP Cloud SDK for Python's auditlog module. */

/** A `{name, value}` pair of a security event. */
export class SecurityEventAttribute {
  constructor(
    readonly name: string,
    readonly value: string,
  ) {}
}

/** An attribute that was read; `successful` says whether reading it succeeded. */
export class DataAccessAttribute {
  constructor(
    readonly name: string,
    readonly successful?: boolean,
  ) {}
}

/** A changed attribute: `newValue` is required, `oldValue` is absent when the attribute was added. */
export class ChangeAttribute {
  constructor(
    readonly name: string,
    readonly newValue: string,
    readonly oldValue?: string,
  ) {}
}

/** A deleted attribute with its old value (if it is to be logged). */
export class DeletedAttribute {
  constructor(
    readonly name: string,
    readonly oldValue?: string,
  ) {}
}

/** An attachment that was read (data access events). */
export interface Attachment {
  readonly id: string;
  readonly name?: string;
}

/** Bodies of SAP Audit Log Service write API v2 (CONTRACT §2). Absent optional fields are omitted. */

import type { JsonValue } from './any-value.js';

export type IdMap = Record<string, string>;

export interface SapObject {
  type: string;
  id: IdMap;
}

export interface SapDataSubject {
  type: string;
  role?: string;
  id: IdMap;
}

interface SapMessageBase {
  uuid: string;
  user: string;
  time: string;
  tenant: string;
  customDetails?: Record<string, JsonValue>;
}

export interface SapSecurityEventMessage extends SapMessageBase {
  data: string;
  ip?: string;
  identityProvider?: string;
  attributes?: { name: string; value: string }[];
}

export interface SapDataAccessMessage extends SapMessageBase {
  identityProvider?: string;
  attributes: { name: string; successful?: boolean }[];
  object: SapObject;
  data_subject?: SapDataSubject;
  data_subjects?: SapDataSubject[];
  channel?: string;
  attachments?: { id: string; name?: string }[];
}

export interface SapDataModificationMessage extends SapMessageBase {
  attributes: { name: string; old?: string; new?: string }[];
  object: SapObject;
  data_subject?: SapDataSubject;
  data_subjects?: SapDataSubject[];
  id?: string;
  success?: boolean;
}

export interface SapConfigurationChangeMessage extends SapMessageBase {
  attributes: { name: string; old?: string; new?: string }[];
  object: SapObject;
  id?: string;
  success?: boolean;
}

export type SapMessage =
  SapSecurityEventMessage | SapDataAccessMessage | SapDataModificationMessage | SapConfigurationChangeMessage;

/** SAP's `time`: UTC ISO-8601 with milliseconds and `Z`. */
export function formatSapTime(epochMillis: number): string {
  return new Date(epochMillis).toISOString();
}

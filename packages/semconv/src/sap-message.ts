/** Bodies of SAP Audit Log Service write API v2. Absent optional fields are omitted, never `null`. */

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

/** `{name, value}` pair of a security event. */
export interface SapSecurityAttribute {
  name: string;
  value: string;
}

/** An attribute read by a data access; `successful` says whether reading it succeeded. */
export interface SapDataAccessAttribute {
  name: string;
  successful?: boolean;
}

/** A changed (or, with only `old`, deleted) attribute of a data modification or configuration change. */
export interface SapChangeAttribute {
  name: string;
  old?: string;
  new?: string;
}

export interface SapAttachment {
  id: string;
  name?: string;
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
  attributes?: SapSecurityAttribute[];
}

export interface SapDataAccessMessage extends SapMessageBase {
  identityProvider?: string;
  attributes: SapDataAccessAttribute[];
  object: SapObject;
  data_subject?: SapDataSubject;
  data_subjects?: SapDataSubject[];
  channel?: string;
  attachments?: SapAttachment[];
}

export interface SapDataModificationMessage extends SapMessageBase {
  attributes: SapChangeAttribute[];
  object: SapObject;
  data_subject?: SapDataSubject;
  data_subjects?: SapDataSubject[];
  id?: string;
  success?: boolean;
}

export interface SapConfigurationChangeMessage extends SapMessageBase {
  attributes: SapChangeAttribute[];
  object: SapObject;
  id?: string;
  success?: boolean;
}

export type SapMessage =
  SapSecurityEventMessage | SapDataAccessMessage | SapDataModificationMessage | SapConfigurationChangeMessage;

let cachedSecond = NaN;
let cachedPrefix = '';

/** SAP's `time`: UTC ISO-8601 with milliseconds and `Z` (`2026-11-21T10:00:00.123Z`). */
export function formatSapTime(epochMillis: number): string {
  // Records arrive in bursts from the same second: format the date part once per second.
  const ms = Math.floor(epochMillis);
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    const iso = new Date(ms).toISOString();
    if (iso.length !== 24) return iso; // years outside 0000-9999: no caching
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${cachedPrefix}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
}

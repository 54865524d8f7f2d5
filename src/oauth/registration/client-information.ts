/**
 * What the admin API answers about a client: the RFC 7591 §3.2.1 client information response,
 * the record without its sealed secrets, and the new secret once when one was just issued.
 */
import type { ClientRecord } from "../../core/client-record.js";

export type ClientInformation = Omit<ClientRecord, "client_secret_sealed" | "client_secret_previous_sealed"> & {
  client_id_issued_at: number;
  client_secret?: string;
  client_secret_expires_at?: number;
};

export function clientInformation(record: ClientRecord, secret?: string): ClientInformation {
  const { client_secret_sealed, client_secret_previous_sealed: _previous, ...visible } = record;
  const info: ClientInformation = { ...visible, client_id_issued_at: record.created_at };
  if (secret !== undefined) info.client_secret = secret;
  if (client_secret_sealed !== undefined) info.client_secret_expires_at = 0;
  return info;
}

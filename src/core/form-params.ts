/**
 * The parameters of one OAuth form body (RFC 6749 §3.2): one value per name, empty values
 * dropped. http/form.ts reads them from a request; the OAuth rules take them as this plain map.
 */
export type FormParams = ReadonlyMap<string, string>;

/**
 * Every reason of the error catalogue (src/core/error-catalogue.ts) has a row in README
 * "Troubleshooting": same status, same `error`, and an excerpt of its description — or is listed
 * below as internal (never a response a user sees). A new reason without a row fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DETAIL, REASONS, STATUS, type Reason } from "../../src/core/error-catalogue.js";

/** Reasons no response carries, so no operator meets them. */
const INTERNAL: readonly Reason[] = [
  // Only in POST …/federation/explain answers, as one credential's result; never an error response.
  "federated_credential_other_issuer",
];

interface Row {
  readonly status: number;
  readonly error: string;
  /** Pieces of the excerpt column, split at " / ", "…" and placeholders; lower case. */
  readonly fragments: readonly string[];
}

function troubleshootingRows(readme: string): Row[] {
  const section = readme.slice(readme.indexOf("## Troubleshooting"));
  const rows: Row[] = [];
  for (const line of section.split("\n")) {
    const cells = line.split(" | ").map((cell) => cell.replace(/^\|\s*|\s*\|$/g, "").trim());
    const head = /^(\d{3}) `([a-z_]+)`/.exec(cells[0] ?? "");
    if (!head || cells.length < 3) continue;
    const fragments = cells[1]!
      .split(/ \/ |…|\.\.\.|<[^>]*>|"[^"]*"|`/)
      .map((piece) => piece.replace(/^[\s()'":;,]+|[\s()'":;,]+$/g, "").toLowerCase())
      .filter((piece) => piece.length >= 6);
    rows.push({ status: Number(head[1]), error: head[2]!, fragments });
  }
  return rows;
}

/** A row documents a reason when its excerpt is part of the description (or holds its fixed text around a detail). */
function documents(row: Row, reason: Reason): boolean {
  const entry: { error: string; description: string; status?: number } = REASONS[reason];
  if (row.status !== (entry.status ?? STATUS[entry.error as keyof typeof STATUS]) || row.error !== entry.error) return false;
  const parts = entry.description.toLowerCase().split(DETAIL.toLowerCase()).filter((part) => part.trim() !== "");
  if (parts.length === 0) return true; // the whole text is the detail: `<field>: <problem>`
  return row.fragments.some((fragment) => parts.some((part) => part.includes(fragment) || (part.length >= 12 && fragment.includes(part.trim()))));
}

describe("README troubleshooting: a row for every reason", () => {
  const rows = troubleshootingRows(readFileSync(new URL("../../README.md", import.meta.url), "utf8"));

  it("reads the table", () => {
    expect(rows.length).toBeGreaterThan(40);
  });

  it("documents each reason of the catalogue, or lists it as internal", () => {
    const missing = (Object.keys(REASONS) as Reason[]).filter((reason) => !INTERNAL.includes(reason) && !rows.some((row) => documents(row, reason)));
    expect(missing).toEqual([]);
  });

  it("lists as internal only reasons that exist", () => {
    for (const reason of INTERNAL) expect(REASONS).toHaveProperty(reason);
  });
});

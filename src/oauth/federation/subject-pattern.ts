/**
 * `subject_pattern` matching (SPEC §9): a `*` matches any run of characters within one segment and
 * never crosses a `:` or `/`, so `repo:acme/*:ref:refs/heads/main` admits `repo:acme/x:ref:…main`
 * but neither `repo:acme/x/y:…` nor `repo:acme/x:environment:prod:…`. Matching is segment by
 * segment (same separators at the same places), linear in the segments, no regular expressions.
 */

const SEPARATOR = /[:/]/;

export interface Segments {
  readonly texts: readonly string[];
  readonly separators: string;
}

/** `value` split at every `:` and `/`: the texts between them, and the separators in order. */
export function segments(value: string): Segments {
  const texts: string[] = [];
  let separators = "";
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (SEPARATOR.test(value[i]!)) {
      texts.push(value.slice(start, i));
      separators += value[i];
      start = i + 1;
    }
  }
  texts.push(value.slice(start));
  return { texts, separators };
}

/** Whether `subject` matches `pattern`. */
export function subjectMatchesPattern(pattern: string, subject: string): boolean {
  const p = segments(pattern);
  const s = segments(subject);
  if (p.separators !== s.separators) return false;
  return p.texts.every((text, i) => globMatches(text, s.texts[i]!));
}

/**
 * Whether the pattern has no literal text from segment `from` on (such as `*` or `*:*`, or
 * `repo:*:*` from 1): it admits every subject that shares its first `from` segments.
 */
export function isWildcardsOnly(pattern: string, from = 0): boolean {
  return segments(pattern).texts.slice(from).every((text) => /^\**$/.test(text));
}

/** `*`-glob of one segment: the classic two-pointer match, backtracking only to the last `*`. */
export function globMatches(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

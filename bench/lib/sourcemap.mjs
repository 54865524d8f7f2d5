/**
 * Just enough source-map reading (v3, base64 VLQ) to attribute profile samples and bundle bytes to
 * the files they came from (src/… or a node_modules package).
 */
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGIT = new Map([...B64].map((c, i) => [c, i]));

function decodeSegment(text) {
  const values = [];
  let value = 0;
  let shift = 0;
  for (const c of text) {
    const d = DIGIT.get(c);
    value += (d & 31) << shift;
    if (d & 32) {
      shift += 5;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** Short name of a source path: "src/oauth/x.ts" or "node_modules/<package>". */
export function shortSource(path) {
  const nm = path.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = path.slice(nm + "node_modules/".length).split("/");
    return `node_modules/${rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const src = path.lastIndexOf("/src/");
  if (src !== -1) return path.slice(src + 1);
  return path.replace(/^(\.\.\/)+/, "");
}

/**
 * Parse a source map. Returns { lookup(line0, col0) → { source, line, column } | undefined,
 * bytesBySource(generatedText) → Map(shortSource → bytes) }.
 */
export function readSourceMap(map) {
  const lines = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  for (const lineText of map.mappings.split(";")) {
    const segments = [];
    let col = 0;
    if (lineText) {
      for (const seg of lineText.split(",")) {
        const v = decodeSegment(seg);
        col += v[0];
        if (v.length >= 4) {
          src += v[1];
          srcLine += v[2];
          srcCol += v[3];
          segments.push([col, src, srcLine, srcCol]);
        } else {
          segments.push([col, -1, 0, 0]);
        }
      }
    }
    lines.push(segments);
  }

  function lookup(line, column) {
    const segs = lines[line];
    if (!segs || segs.length === 0) return undefined;
    let lo = 0;
    let hi = segs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid][0] <= column) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const seg = segs[Math.max(found, 0)];
    if (seg[1] < 0) return undefined;
    return { source: map.sources[seg[1]], line: seg[2] + 1, column: seg[3] + 1 };
  }

  function bytesBySource(generated) {
    const out = new Map();
    const textLines = generated.split("\n");
    textLines.forEach((text, i) => {
      const segs = lines[i] ?? [];
      if (segs.length === 0) {
        out.set("(unmapped)", (out.get("(unmapped)") ?? 0) + text.length + 1);
        return;
      }
      for (let k = 0; k < segs.length; k++) {
        const end = k + 1 < segs.length ? segs[k + 1][0] : text.length + 1;
        const name = segs[k][1] < 0 ? "(unmapped)" : shortSource(map.sources[segs[k][1]]);
        out.set(name, (out.get(name) ?? 0) + (end - segs[k][0]));
      }
      if (segs[0][0] > 0) out.set("(unmapped)", (out.get("(unmapped)") ?? 0) + segs[0][0]);
    });
    return out;
  }

  return { lookup, bytesBySource };
}

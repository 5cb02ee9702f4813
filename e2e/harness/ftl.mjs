// Just enough Fluent for the station's messages: `id = value` with indented
// continuation lines and comments. Formats a message without arguments the
// way fluent-rs does (a missing variable shows as `{$name}`), which is what
// the Rust server puts into the page's config block.
import { readFileSync } from 'node:fs';

export function parseFtl(source) {
  const messages = {};
  let current = null;
  for (const line of source.split(/\r?\n/)) {
    if (/^\s*#/.test(line) || line.trim() === '') {
      current = line.trim() === '' ? null : current;
      continue;
    }
    const m = /^([a-zA-Z][a-zA-Z0-9_-]*)\s*=\s?(.*)$/.exec(line);
    if (m) {
      if (Object.prototype.hasOwnProperty.call(messages, m[1])) throw new Error(`duplicate message ${m[1]}`);
      current = m[1];
      messages[current] = m[2];
    } else if (current && /^\s+\S/.test(line)) {
      messages[current] += (messages[current] ? '\n' : '') + line.trim();
    } else {
      throw new Error(`cannot parse FTL line: ${line}`);
    }
  }
  return messages;
}

export function formatWithoutArgs(pattern) {
  return pattern.replace(/\{\s*\$([A-Za-z0-9_-]+)\s*\}/g, '{$$$1}');
}

export function loadStrings(file) {
  const out = {};
  for (const [id, value] of Object.entries(parseFtl(readFileSync(file, 'utf8')))) out[id] = formatWithoutArgs(value);
  return out;
}

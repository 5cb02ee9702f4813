// No browser: the words and the contract between the template, the JS and
// the Fluent files, and the order-number reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { WEB, scriptJson } from '../harness/server.mjs';
import { parseFtl } from '../harness/ftl.mjs';

const STATION = path.join(WEB, 'assets/station');
const en = parseFtl(readFileSync(path.join(WEB, 'locales/station.en.ftl'), 'utf8'));
const bn = parseFtl(readFileSync(path.join(WEB, 'locales/station.bn.ftl'), 'utf8'));
const template = readFileSync(path.join(WEB, 'templates/station.html'), 'utf8');
const scripts = readdirSync(STATION).filter((f) => f.endsWith('.js')).map((f) => [f, readFileSync(path.join(STATION, f), 'utf8')]);

// Ids built at run time from these parts.
const DYNAMIC = {
  'station-camera-': ['insecure', 'unsupported', 'denied', 'missing', 'busy', 'error'],
  'station-status-': ['placed', 'confirmed', 'packed', 'handed_to_courier', 'delivered', 'returned', 'cancelled'],
  'station-reason-': ['offline', 'signin', 'server', 'storage', 'unknown'],
  'station-kind-': ['packing', 'delivery', 'return'],
  'station-media-': ['video', 'photo'],
};

// Element ids that look like message ids.
const NOT_MESSAGES = new Set(['station-config']);

// Messages the server shows itself (crates/web/src/pages/station.rs), not the page.
const SERVER_ONLY = ['station-forbidden'];
const serverSource = readFileSync(path.join(WEB, 'src/pages/station.rs'), 'utf8');

function usedIds() {
  const ids = new Set();
  for (const m of template.matchAll(/data-t(?:-[a-z]+)?="(station-[a-z0-9_-]+)"/g)) ids.add(m[1]);
  for (const [, src] of scripts) {
    for (const m of src.matchAll(/['"`](station-[a-z0-9_-]+)['"`$]/g)) {
      if (!m[1].endsWith('-') && !NOT_MESSAGES.has(m[1])) ids.add(m[1]);
    }
    for (const m of src.matchAll(/`(station-[a-z0-9_-]+-)\$\{/g)) {
      assert.ok(DYNAMIC[m[1]], `the test knows the values of the dynamic id ${m[1]}…`);
      for (const v of DYNAMIC[m[1]]) ids.add(m[1] + v);
    }
  }
  return ids;
}

test('English and Bangla have the same station- messages, and every one is used', () => {
  assert.deepEqual(Object.keys(bn).sort(), Object.keys(en).sort(), 'the same ids in both languages');
  for (const id of Object.keys(en)) assert.match(id, /^station-/, `${id} has the station- prefix`);
  const used = usedIds();
  for (const id of used) {
    assert.ok(id in en, `${id} is used by the page but missing from station.en.ftl`);
    assert.ok(id in bn, `${id} is used by the page but missing from station.bn.ftl`);
  }
  for (const id of SERVER_ONLY) {
    assert.ok(serverSource.includes(`"${id}"`), `${id} is used by the server's station page`);
    used.add(id);
  }
  for (const id of Object.keys(en)) assert.ok(used.has(id), `${id} is in the FTL files but nothing uses it`);
  for (const [id, v] of Object.entries({ ...en, ...bn })) {
    assert.ok(!v.includes('->'), `${id}: no selectors (the server renders messages without arguments)`);
    assert.ok(v.trim().length > 0, `${id} has text`);
  }
  for (const id of Object.keys(en)) {
    const vars = (s) => [...s.matchAll(/\{\s*\$([a-z]+)\s*\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(vars(bn[id]), vars(en[id]), `${id}: the same variables in both languages`);
  }
});

test('the JS holds no Bangla text; the template has only the two placeholders', () => {
  // Bangla digits (U+09E6–U+09EF) are allowed: they are how numbers are shown.
  for (const [f, src] of scripts) assert.ok(!/[\u0980-\u09E5\u09F0-\u09FF]/.test(src), `${f} contains Bangla text`);
  const tags = [...template.matchAll(/\{[{%#][\s\S]*?[}%#]\}/g)].map((m) => m[0]);
  assert.deepEqual([...new Set(tags)].sort(), ['{{ assets }}', '{{ config_json|safe }}']);
  assert.ok(template.includes('<script type="application/json" id="station-config">{{ config_json|safe }}</script>'));
  assert.equal(JSON.parse(scriptJson({ s: '</script><b>&' })).s, '</script><b>&');
  assert.ok(!scriptJson({ s: '</script>' }).includes('<'), 'config JSON cannot close the script element');
});

test('order numbers are read from scans as the server reads them', async () => {
  const { orderNumberFrom } = await import(pathToFileURL(path.join(STATION, 'scanner.js')).href);
  const cases = [
    ['CM-000123', 'CM-000123'],
    [']C0cm-000123\r\n', 'CM-000123'],
    ['cm 42', 'CM-000042'],
    ['CM_7', 'CM-000007'],
    ['https://shop.example/track?n=CM-000151', 'CM-000151'],
    ['CMX CM-5', 'CM-000005'],
    ['CM-000001 CM-000002', 'CM-000002'],
    ['CM-1234567', 'CM-1234567'],
    ['hello', null],
    ['CM-', null],
    ['CM-0', null],
    ['CM-1234567890123', null],
    ['', null],
  ];
  for (const [scan, want] of cases) assert.equal(orderNumberFrom(scan), want, JSON.stringify(scan));
});

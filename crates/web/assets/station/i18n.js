// The page's configuration and words. The server renders both into
// <script type="application/json" id="station-config">; this module holds
// no user-visible text of its own.

const BANGLA_DIGITS = '০১২৩৪৫৬৭৮৯';

const DEFAULTS = {
  lang: 'bn',
  uploadEndpoint: '/api/v1/uploads/',
  lookup: '/api/v1/orders/by-code/',
  signIn: '/staff/sign-in',
  uploadChunkBytes: 4 * 1024 * 1024,
  video: { width: 1280, height: 720, bitsPerSecond: 1000000 },
  strings: {},
};

/** Reads the config block; unknown keys are kept, missing ones defaulted. */
export function loadConfig(doc = document) {
  const el = doc.getElementById('station-config');
  let raw = {};
  try {
    raw = JSON.parse(el ? el.textContent : '{}');
  } catch (e) {
    console.error('station: the config block is not valid JSON', e);
  }
  return {
    ...DEFAULTS,
    ...raw,
    video: { ...DEFAULTS.video, ...(raw.video || {}) },
    strings: raw.strings || {},
  };
}

/** Latin digits as Bangla digits on Bangla pages. */
export function localDigits(lang, text) {
  const s = String(text);
  return lang === 'bn' ? s.replace(/[0-9]/g, (d) => BANGLA_DIGITS[d]) : s;
}

/**
 * A translator over the rendered Fluent strings. Variables arrive as the
 * placeholders Fluent leaves for missing arguments (`{$name}`, also
 * `{ $name }`); numbers given as arguments are shown in the page's digits.
 * A missing message shows its id, as the server's own `t` does.
 */
export function makeT(config) {
  const { strings, lang } = config;
  return function t(id, args = {}) {
    const pattern = Object.prototype.hasOwnProperty.call(strings, id) ? strings[id] : id;
    return String(pattern).replace(/\{\s*\$([A-Za-z0-9_-]+)\s*\}/g, (whole, name) => {
      if (!Object.prototype.hasOwnProperty.call(args, name)) return whole;
      const v = args[name];
      return typeof v === 'number' ? localDigits(lang, v) : String(v);
    });
  };
}

/** Fills `data-t` (text), `data-t-placeholder`, `data-t-label` (aria-label) and `data-t-title`. */
export function applyStrings(root, t) {
  for (const el of root.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of root.querySelectorAll('[data-t-placeholder]')) el.placeholder = t(el.dataset.tPlaceholder);
  for (const el of root.querySelectorAll('[data-t-label]')) el.setAttribute('aria-label', t(el.dataset.tLabel));
  for (const el of root.querySelectorAll('[data-t-title]')) el.title = t(el.dataset.tTitle);
}

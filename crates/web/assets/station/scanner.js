// Order numbers from the camera (BarcodeDetector where the browser has it,
// else the zxing decoder on canvas frames, about five times a second), from
// a USB barcode scanner acting as a keyboard, and from typing.

/**
 * The order number in a scanned or typed text, as the server's
 * OrderNumber::from_scan reads it: the last "CM" followed by digits (an
 * optional dash, space or underscore between), whatever surrounds it
 * (scanner prefixes like "]C0", URLs, lower case). Null when there is none.
 */
export function orderNumberFrom(text) {
  const upper = String(text || '').toUpperCase();
  let found = null;
  const re = /CM[- _]*(\d+)/g;
  let m;
  while ((m = re.exec(upper)) !== null) found = m[1];
  if (found === null || found.length > 12) return null;
  const id = Number(found);
  if (!Number.isSafeInteger(id) || id <= 0) return null;
  return `CM-${String(id).padStart(6, '0')}`;
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.async = true;
    s.onload = resolve;
    s.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(s);
  });
}

async function nativeDetector() {
  if (!('BarcodeDetector' in self)) return null;
  try {
    const formats = await self.BarcodeDetector.getSupportedFormats();
    const wanted = ['code_128', 'qr_code'].filter((f) => formats.includes(f));
    if (!wanted.length) return null;
    const detector = new self.BarcodeDetector({ formats: wanted });
    return {
      kind: 'native',
      async detect(video) {
        const codes = await detector.detect(video);
        return codes.length ? codes[0].rawValue : null;
      },
    };
  } catch {
    return null;
  }
}

async function zxingDetector() {
  if (!self.ZXing) await loadScript(new URL('../vendor/zxing.min.js', import.meta.url).href);
  const Z = self.ZXing;
  const hints = new Map();
  hints.set(Z.DecodeHintType.POSSIBLE_FORMATS, [Z.BarcodeFormat.QR_CODE, Z.BarcodeFormat.CODE_128]);
  const reader = new Z.MultiFormatReader();
  reader.setHints(hints);
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  let luma = new Uint8ClampedArray(0);
  return {
    kind: 'zxing',
    detect(video) {
      const vw = video.videoWidth;
      const vh = video.videoHeight;
      if (!vw || !vh) return null;
      const w = Math.min(vw, 960);
      const h = Math.round((vh * w) / vw);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      ctx.drawImage(video, 0, 0, w, h);
      const rgba = ctx.getImageData(0, 0, w, h).data;
      if (luma.length !== w * h) luma = new Uint8ClampedArray(w * h);
      for (let i = 0, j = 0; i < luma.length; i += 1, j += 4) {
        luma[i] = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
      }
      const bitmap = new Z.BinaryBitmap(new Z.HybridBinarizer(new Z.RGBLuminanceSource(luma, w, h)));
      try {
        return reader.decodeWithState(bitmap).getText();
      } catch (e) {
        // NotFound, Checksum and Format exceptions just mean "no code in this frame".
        return null;
      } finally {
        reader.reset();
      }
    },
  };
}

/** Watches the video for codes; calls onCode(text) for each one read. */
export class CameraScanner {
  constructor(video, onCode, { intervalMs = 200 } = {}) {
    this.video = video;
    this.onCode = onCode;
    this.intervalMs = intervalMs;
    this.detector = null;
    this.timer = null;
    this.running = false;
  }

  /** Resolves to 'native' or 'zxing'. */
  async init() {
    this.detector = (await nativeDetector()) || (await zxingDetector());
    return this.detector.kind;
  }

  start() {
    if (this.running || !this.detector) return;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      if (document.visibilityState === 'visible' && this.video.readyState >= 2) {
        try {
          const text = await this.detector.detect(this.video);
          if (text && this.running) this.onCode(text);
        } catch (e) {
          console.warn('station: barcode detection failed', e);
        }
      }
      if (this.running) this.timer = setTimeout(tick, this.intervalMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
  }
}

function typingInField(target) {
  if (!target || !(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) {
    return !['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file'].includes(target.type);
  }
  return false;
}

/**
 * A barcode scanner that types: characters arriving fast (each within
 * `maxGapMs` of the last) and ending with Enter (or Tab, as some scanners are
 * set up), anywhere on the page except
 * in a text field (whose own form takes them). The Enter is swallowed so it
 * does not also press a focused button (or move the focus).
 */
export function listenForWedge(onCode, { maxGapMs = 100, minLength = 4, target = window } = {}) {
  let buffer = '';
  let last = 0;
  const onKey = (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey || e.isComposing) {
      buffer = '';
      return;
    }
    if (typingInField(e.target)) return;
    const now = performance.now();
    if (e.key === 'Enter' || (e.key === 'Tab' && buffer.length >= minLength && now - last <= maxGapMs)) {
      if (buffer.length >= minLength && now - last <= maxGapMs) {
        e.preventDefault();
        e.stopPropagation();
        const text = buffer;
        buffer = '';
        onCode(text);
      }
      buffer = '';
      return;
    }
    if (e.key.length !== 1) return; // Shift and the like
    if (now - last > maxGapMs) buffer = '';
    buffer += e.key;
    last = now;
  };
  target.addEventListener('keydown', onKey, true);
  return () => target.removeEventListener('keydown', onKey, true);
}

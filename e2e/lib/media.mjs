// Test media: a fake-camera Y4M showing an order number's QR code and
// Code128 barcode over moving test pattern, and ffprobe.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile, mkdir, stat, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';

const require = createRequire(import.meta.url);
const ZXing = require('@zxing/library');
const { CODE128B } = require('jsbarcode/bin/barcodes/CODE128');
const run = promisify(execFile);

/** A white 640x300 greyscale panel (PGM) with the QR code left and the Code128 right. */
export function codePanel(text) {
  const W = 640;
  const H = 300;
  const px = new Uint8Array(W * H).fill(255);
  const hints = new Map([[ZXing.EncodeHintType.MARGIN, 0]]);
  const qr = new ZXing.QRCodeWriter().encode(text, ZXing.BarcodeFormat.QR_CODE, 0, 0, hints);
  const scale = Math.floor(240 / qr.getWidth());
  const qx = 48;
  const qy = Math.floor((H - qr.getHeight() * scale) / 2);
  for (let y = 0; y < qr.getHeight(); y += 1) {
    for (let x = 0; x < qr.getWidth(); x += 1) {
      if (!qr.get(x, y)) continue;
      for (let dy = 0; dy < scale; dy += 1) px.fill(0, (qy + y * scale + dy) * W + qx + x * scale, (qy + y * scale + dy) * W + qx + (x + 1) * scale);
    }
  }
  const bars = new CODE128B(text, {}).encode().data; // "1101001..." one char per module
  const module = 2;
  const bx = W - 24 - bars.length * module;
  if (bx < qx + 240 + 24) throw new Error('the Code128 does not fit beside the QR code');
  for (let y = 90; y < 210; y += 1) {
    for (let i = 0; i < bars.length; i += 1) if (bars[i] === '1') px.fill(0, y * W + bx + i * module, y * W + bx + (i + 1) * module);
  }
  return Buffer.concat([Buffer.from(`P5\n${W} ${H}\n255\n`), Buffer.from(px)]);
}

/**
 * A Y4M (640x480, 15 fps, 6 s, looped by Chromium) showing `text` as codes
 * over ffmpeg's moving test pattern, so recordings have real motion.
 * Made once per picture and kept in the system's temp folder.
 */
export async function codeVideo(text) {
  const dir = path.join(tmpdir(), 'chotomoni-e2e-media');
  await mkdir(dir, { recursive: true });
  const panel = codePanel(text);
  const tag = createHash('sha256').update(panel).digest('hex').slice(0, 12);
  const out = path.join(dir, `${text.replace(/[^A-Za-z0-9-]/g, '_')}-${tag}.y4m`);
  try {
    if ((await stat(out)).size > 0) return out;
  } catch { /* make it */ }
  const pgm = path.join(dir, `${process.pid}-panel.pgm`);
  await writeFile(pgm, panel);
  const tmp = `${out}.${process.pid}.y4m`;
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=15',
    '-loop', '1', '-i', pgm,
    '-filter_complex', '[1:v]format=yuv420p[p];[0:v][p]overlay=0:90,format=yuv420p',
    '-t', '6', '-pix_fmt', 'yuv420p', tmp,
  ]);
  await rename(tmp, out);
  return out;
}

/** ffprobe's view of a file: { format, streams: [{codec_type, codec_name}] }. */
export async function probe(file) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const j = JSON.parse(stdout);
  return {
    format: j.format && j.format.format_name,
    duration: Number(j.format && j.format.duration),
    streams: (j.streams || []).map((s) => ({ codec_type: s.codec_type, codec_name: s.codec_name, width: s.width, height: s.height })),
  };
}

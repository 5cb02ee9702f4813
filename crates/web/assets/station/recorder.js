// The camera, and proof capture from it: frames are drawn onto a canvas with
// the order number and the time, and that canvas (plus the microphone) is
// what is recorded or photographed.

/** The recorder formats to try, best first: MP4 where the browser records it, else WebM. */
const VIDEO_TYPES = [
  'video/mp4;codecs=avc1.42E01F,mp4a.40.2',
  'video/mp4;codecs=avc1,opus',
  'video/mp4',
  'video/webm;codecs=vp9,opus',
  'video/webm;codecs=vp8,opus',
  'video/webm',
];

export function pickVideoType() {
  if (!('MediaRecorder' in self)) return null;
  return VIDEO_TYPES.find((t) => MediaRecorder.isTypeSupported(t)) || '';
}

/** `video/mp4;codecs=…` → `video/mp4`. */
export function baseType(mime) {
  return String(mime || '').split(';')[0].trim().toLowerCase();
}

export function extensionFor(mime) {
  const t = baseType(mime);
  if (t === 'video/mp4') return 'mp4';
  if (t === 'video/webm') return 'webm';
  if (t === 'image/jpeg') return 'jpg';
  return 'bin';
}

function pad(n, w = 2) {
  return String(Math.abs(Math.trunc(n))).padStart(w, '0');
}

/** RFC 3339 in the device's local time with its offset: 2025-11-25T14:03:07+06:00. */
export function rfc3339(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
    + `${sign}${pad(off / 60)}:${pad(off % 60)}`;
}

/** What is burnt into the picture: 2025-11-25 14:03:07 +06:00. */
export function stampTime(d = new Date()) {
  return rfc3339(d).replace('T', ' ').replace(/([+-]\d\d:\d\d)$/, ' $1');
}

/** Why the camera could not start, as one of: insecure, unsupported, denied, missing, busy, error. */
export function cameraProblem(err) {
  if (!self.isSecureContext) return 'insecure';
  const name = err && err.name;
  if (name === 'NotSupportedError' && !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return 'unsupported';
  if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') return 'denied';
  if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') return 'missing';
  if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') return 'busy';
  return 'error';
}

/**
 * Opens the camera with the microphone; without a usable microphone, the
 * camera alone (scanning and photos work, videos have no sound).
 * Resolves to { stream, audio: boolean, audioError }; rejects with the camera's error.
 */
export async function openCamera(video, { width, height }) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new DOMException('getUserMedia is not available', 'NotSupportedError');
  }
  const videoConstraints = {
    width: { ideal: width },
    height: { ideal: height },
    facingMode: { ideal: 'environment' },
  };
  let stream;
  let audioError = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: videoConstraints, audio: true });
  } catch (first) {
    audioError = first;
    stream = await navigator.mediaDevices.getUserMedia({ video: videoConstraints, audio: false }).catch((e) => {
      throw first.name === 'NotAllowedError' ? first : e;
    });
  }
  video.srcObject = stream;
  video.muted = true;
  video.playsInline = true;
  await video.play().catch(() => {});
  if (!video.videoWidth) {
    await new Promise((resolve) => {
      video.addEventListener('loadedmetadata', resolve, { once: true });
      setTimeout(resolve, 3000);
    });
  }
  return { stream, audio: stream.getAudioTracks().length > 0, audioError };
}

/** Largest size within `box` (either orientation) with the video's aspect ratio. */
function fitted(vw, vh, box) {
  const landscape = vw >= vh;
  const bw = landscape ? box.width : box.height;
  const bh = landscape ? box.height : box.width;
  const scale = Math.min(1, bw / vw, bh / vh);
  // Encoders want even sizes.
  return { w: Math.max(2, Math.round((vw * scale) / 2) * 2), h: Math.max(2, Math.round((vh * scale) / 2) * 2) };
}

/** Draws the frame and the stamp (order number, time) onto a 2D context. */
function drawStamped(ctx, video, w, h, label) {
  ctx.drawImage(video, 0, 0, w, h);
  const size = Math.max(14, Math.round(h / 24));
  const padY = Math.round(size * 0.45);
  const text = `${label}   ${stampTime()}`;
  ctx.font = `700 ${size}px system-ui, "Noto Sans", sans-serif`;
  ctx.textBaseline = 'middle';
  const bar = size + padY * 2;
  ctx.fillStyle = 'rgba(0, 0, 0, 0.62)';
  ctx.fillRect(0, h - bar, w, bar);
  ctx.fillStyle = '#ffffff';
  ctx.fillText(text, Math.round(size * 0.6), h - bar / 2, w - size);
}

/** A JPEG of the current frame with the stamp. */
export async function takePhoto(video, label, quality = 0.88) {
  const w = video.videoWidth;
  const h = video.videoHeight;
  if (!w || !h) throw new DOMException('no camera frame', 'InvalidStateError');
  const canvas = document.createElement('canvas');
  canvas.width = w;
  canvas.height = h;
  drawStamped(canvas.getContext('2d'), video, w, h, label);
  return new Promise((resolve, reject) => {
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('toBlob failed'))), 'image/jpeg', quality);
  });
}

/**
 * One video recording: the camera drawn onto a canvas with the stamp,
 * recorded with the microphone's track. `onData(blob)` gets each timeslice
 * (about a second) as it arrives.
 */
export class Recording {
  constructor(video, audioTracks, { label, mimeType, bitsPerSecond, box, onData, timeslice = 1000 }) {
    this.video = video;
    this.label = label;
    const { w, h } = fitted(video.videoWidth || box.width, video.videoHeight || box.height, box);
    this.canvas = document.createElement('canvas');
    this.canvas.width = w;
    this.canvas.height = h;
    this.ctx = this.canvas.getContext('2d', { alpha: false });
    this.drawing = true;
    this.draw();
    this.canvasStream = this.canvas.captureStream(30);
    const stream = new MediaStream([...this.canvasStream.getVideoTracks(), ...audioTracks]);
    const options = {
      videoBitsPerSecond: bitsPerSecond,
      audioBitsPerSecond: 64000,
      // A key frame every timeslice: Chrome's MP4 recorder hands over data
      // only at key frames, which otherwise come rarely, and a cut-off
      // recording then keeps everything up to its last second.
      videoKeyFrameIntervalDuration: timeslice,
    };
    if (mimeType) options.mimeType = mimeType;
    this.recorder = new MediaRecorder(stream, options);
    this.mimeType = this.recorder.mimeType || mimeType || 'video/webm';
    this.stopped = new Promise((resolve) => {
      this.recorder.addEventListener('stop', resolve, { once: true });
    });
    this.recorder.addEventListener('dataavailable', (e) => {
      if (e.data && e.data.size > 0) onData(e.data);
    });
    this.recorder.addEventListener('error', (e) => {
      console.error('station: recorder error', e.error || e);
    });
    this.recorder.start(timeslice);
    this.mimeType = this.recorder.mimeType || this.mimeType;
  }

  draw() {
    if (!this.drawing) return;
    const { width: w, height: h } = this.canvas;
    if (this.video.readyState >= 2) drawStamped(this.ctx, this.video, w, h, this.label);
    // Paint on every camera frame while visible; a timer keeps the clock
    // moving when frames stall.
    if ('requestVideoFrameCallback' in this.video && document.visibilityState === 'visible') {
      let done = false;
      const next = () => {
        if (done) return;
        done = true;
        this.draw();
      };
      this.video.requestVideoFrameCallback(next);
      setTimeout(next, 250);
    } else {
      setTimeout(() => this.draw(), 1000 / 30);
    }
  }

  /** Ends the recording; resolves after the last data has been handed to onData. */
  async stop() {
    if (this.recorder.state !== 'inactive') {
      this.recorder.stop();
    }
    await this.stopped;
    this.drawing = false;
    for (const t of this.canvasStream.getTracks()) t.stop();
  }
}

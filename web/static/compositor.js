// compositor.js draws a screen capture with the camera as a round bubble in one corner onto a
// canvas, so a screen recording is still one video track. Frames are paced by a worker timer:
// timers and animation frames of the page are throttled while the user is in another tab,
// which is exactly when a screen is being recorded.

const FPS = 30;
const MAX_WIDTH = 1920;

function playing(stream) {
  const v = document.createElement('video');
  v.muted = true;
  v.playsInline = true;
  v.srcObject = stream;
  v.play().catch(() => {});
  return v;
}

export class Compositor {
  constructor(screen, camera) {
    this.screen = playing(screen);
    this.camera = camera.getVideoTracks().length ? playing(camera) : null;
    this.canvas = document.createElement('canvas');
    const s = screen.getVideoTracks()[0].getSettings();
    const scale = Math.min(1, MAX_WIDTH / (s.width || 1280));
    this.canvas.width = Math.round((s.width || 1280) * scale / 2) * 2;
    this.canvas.height = Math.round((s.height || 720) * scale / 2) * 2;
    this.g = this.canvas.getContext('2d');
    this.stream = this.canvas.captureStream(FPS);
    this.ticker = new Worker(new URL('./ticker.js', import.meta.url));
    this.ticker.onmessage = () => this.draw();
    this.ticker.postMessage(1000 / FPS);
  }

  // track is the composited video track.
  track() {
    const t = this.stream.getVideoTracks()[0];
    t.contentHint = 'detail';
    return t;
  }

  draw() {
    const { g, canvas: c } = this;
    if (this.screen.readyState >= 2) g.drawImage(this.screen, 0, 0, c.width, c.height);
    const cam = this.camera;
    if (!cam || cam.readyState < 2) return;
    const d = Math.round(Math.min(c.width, c.height) * 0.28);
    const x = Math.round(d * 0.15), y = c.height - d - Math.round(d * 0.15);
    const side = Math.min(cam.videoWidth, cam.videoHeight);
    g.save();
    g.beginPath();
    g.arc(x + d / 2, y + d / 2, d / 2, 0, 2 * Math.PI);
    g.clip();
    g.drawImage(cam, (cam.videoWidth - side) / 2, (cam.videoHeight - side) / 2, side, side, x, y, d, d);
    g.restore();
    g.lineWidth = Math.max(2, d / 40);
    g.strokeStyle = '#fff';
    g.beginPath();
    g.arc(x + d / 2, y + d / 2, d / 2, 0, 2 * Math.PI);
    g.stroke();
  }

  close() {
    this.ticker.terminate();
    this.stream.getTracks().forEach((t) => t.stop());
    for (const v of [this.screen, this.camera]) if (v) v.srcObject = null;
  }
}

// <parley-player>: plays one Parley clip. Set its `clip` property to a clip as the API
// returns it ({kind, duration_ms, media: {mp4, original, audio, poster}}), optionally with
// `peaks` (URL of audiowaveform JSON v2) for voice clips and `captions` (URL of WebVTT).
// Keyboard: Space or K plays and pauses, Left/Right seek 5 s, Up/Down change the speed, C
// shows or hides captions. The media element's playback events
// (FORWARDED) are dispatched on the element itself: they do not leave its shadow root.

const SPEEDS = [1, 1.25, 1.5, 1.75, 2];
const FORWARDED = ['loadeddata', 'play', 'playing', 'pause', 'timeupdate', 'seeked', 'ended', 'ratechange'];
const SEEK_STEP = 5;
// NOTES stand in for a clip that has nothing to play yet, by status.
const NOTES = { failed: 'This clip could not be processed.', recording: 'This clip is being recorded.' };

const css = new CSSStyleSheet();
css.replaceSync(`
:host { display: block; position: relative; background: #111; color: #fff; border-radius: var(--parley-radius, 12px);
  overflow: hidden; font: 14px/1.2 system-ui, sans-serif; outline: none; }
:host(:focus-visible) { box-shadow: 0 0 0 3px #5b9dff; }
.frame { position: relative; width: 100%; height: 100%; display: flex; flex-direction: column; }
video { display: block; width: 100%; flex: 1; min-height: 0; object-fit: contain; background: #000; }
.wave { display: block; width: 100%; height: 96px; flex: 1; min-height: 64px; cursor: pointer; }
.note { padding: 2em 1em; text-align: center; }
.art { flex: 1; display: grid; place-items: center; min-height: 64px; color: #9aa4b2; }
.art svg { width: 48px; height: 48px; }
.bar { display: flex; align-items: center; gap: .5em; padding: .4em .6em; background: rgba(0,0,0,.75); }
button { display: inline-grid; place-items: center; font: inherit; color: inherit; background: none; border: 0; padding: .3em .5em; border-radius: 6px; cursor: pointer; min-width: 2.4em; }
button:hover, button:focus-visible { background: rgba(255,255,255,.15); outline: none; }
input[type=range] { flex: 1; min-width: 4em; accent-color: #5b9dff; }
.time { font-variant-numeric: tabular-nums; white-space: nowrap; }
`);

function clock(s) {
  if (!Number.isFinite(s) || s < 0) s = 0;
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

function el(tag, attrs = {}, text = '') {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text) e.textContent = text;
  return e;
}

const SVG = 'http://www.w3.org/2000/svg';

// icon is a 24×24 stroked SVG of one path.
function icon(d) {
  const svg = document.createElementNS(SVG, 'svg');
  const path = document.createElementNS(SVG, 'path');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '16', height: '16', fill: 'none',
    stroke: 'currentColor', 'stroke-width': '2', 'aria-hidden': 'true' })) svg.setAttribute(k, v);
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

// source picks what to play: for voice the audio rendition first; then MP4, then the original.
function source(clip) {
  const m = clip.media || {};
  if (clip.kind === 'audio') return m.audio || m.mp4 || m.original;
  return m.mp4 || m.original;
}

export class ParleyPlayer extends HTMLElement {
  #clip = null;
  #peaks = null;
  #captions = null;
  #media = null;
  #wave = null;

  constructor() {
    super();
    this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [css];
    this.addEventListener('keydown', (e) => this.#key(e));
  }

  connectedCallback() {
    if (!this.hasAttribute('tabindex')) this.tabIndex = 0;
    this.setAttribute('role', 'group');
  }

  get clip() { return this.#clip; }
  set clip(c) {
    this.#clip = c;
    this.#render();
  }

  // peaks is the URL of the waveform of a voice clip.
  get peaks() { return this.#peaks; }
  set peaks(url) {
    this.#peaks = url;
    if (this.#clip) this.#render();
  }

  // captions is the URL of WebVTT captions, shown by default (C toggles them).
  get captions() { return this.#captions; }
  set captions(url) {
    this.#captions = url;
    if (this.#clip) this.#render();
  }

  get media() { return this.#media; }
  get paused() { return !this.#media || this.#media.paused; }
  get currentTime() { return this.#media ? this.#media.currentTime : 0; }
  get duration() {
    const d = this.#media && this.#media.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return this.#clip ? (this.#clip.duration_ms || 0) / 1000 : 0;
  }

  play() { return this.#media ? this.#media.play() : Promise.resolve(); }
  pause() { if (this.#media) this.#media.pause(); }
  toggle() { return this.#media && this.#media.paused ? this.play() : this.pause(); }
  seek(t) {
    if (!this.#media) return;
    this.#media.currentTime = Math.max(0, Math.min(t, this.duration || t));
  }

  #render() {
    const root = this.shadowRoot;
    root.replaceChildren();
    this.#media = null;
    const c = this.#clip;
    const src = c && source(c);
    this.dataset.kind = (c && c.kind) || '';
    this.setAttribute('aria-label', (c && c.title) || (c && c.kind === 'audio' ? 'Voice message' : 'Video message'));
    if (!src) {
      root.append(el('p', { class: 'note', role: 'status' }, (c && NOTES[c.status]) || 'This clip is not ready yet. Try again in a moment.'));
      return;
    }
    const frame = el('div', { class: 'frame' });
    const audio = c.kind === 'audio';
    const m = el(audio ? 'audio' : 'video', { preload: 'metadata', playsinline: '' });
    m.src = src;
    if (!audio && c.media.poster) m.poster = c.media.poster;
    if (this.#captions) m.append(el('track', { kind: 'captions', label: 'Captions', src: this.#captions, default: '' }));
    this.#media = m;
    for (const ev of FORWARDED) m.addEventListener(ev, () => this.dispatchEvent(new Event(ev)));
    frame.append(m);
    if (audio) frame.append(this.#peaks ? this.#waveform() : this.#art());
    frame.append(this.#controls(m, audio));
    root.append(frame);
    m.addEventListener('click', () => this.toggle());
  }

  // #art stands in for a voice clip's waveform while it has none.
  #art() {
    const art = el('div', { class: 'art', 'aria-hidden': 'true' });
    art.append(icon('M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3zM5 11a7 7 0 0 0 14 0M12 18v3M8 21h8'));
    return art;
  }

  #controls(m, audio) {
    const bar = el('div', { class: 'bar' });
    const play = el('button', { type: 'button', 'aria-label': 'Play' }, '▶');
    const seek = el('input', { type: 'range', min: '0', max: '1000', value: '0', step: '1', 'aria-label': 'Seek' });
    const time = el('span', { class: 'time', 'aria-live': 'off' }, '0:00 / 0:00');
    const speed = el('button', { type: 'button', 'aria-label': 'Playback speed 1×' }, '1×');
    play.addEventListener('click', () => this.toggle());
    let dragging = false;
    seek.addEventListener('pointerdown', () => { dragging = true; });
    seek.addEventListener('change', () => { dragging = false; });
    seek.addEventListener('input', () => this.seek(seek.value / 1000 * this.duration));
    speed.addEventListener('click', () => this.#cycleSpeed(1));
    bar.append(play, seek, time, speed);
    if (!audio && document.fullscreenEnabled) bar.append(this.#fullscreenButton());
    const update = () => {
      const d = this.duration;
      play.textContent = m.paused ? '▶' : '❚❚';
      play.setAttribute('aria-label', m.paused ? 'Play' : 'Pause');
      if (!dragging) seek.value = d ? Math.round(m.currentTime / d * 1000) : 0;
      seek.setAttribute('aria-valuetext', `${clock(m.currentTime)} of ${clock(d)}`);
      time.textContent = `${clock(m.currentTime)} / ${clock(d)}`;
      speed.textContent = `${m.playbackRate}×`;
      speed.setAttribute('aria-label', `Playback speed ${m.playbackRate}×`);
      this.#drawWave();
    };
    for (const ev of ['play', 'pause', 'timeupdate', 'durationchange', 'loadedmetadata', 'ratechange', 'seeked', 'ended']) {
      m.addEventListener(ev, update);
    }
    return bar;
  }

  #fullscreenButton() {
    const b = el('button', { type: 'button', 'aria-label': 'Full screen' });
    b.append(icon('M3 9V3h6M21 9V3h-6M3 15v6h6M21 15v6h-6'));
    b.addEventListener('click', () => {
      if (document.fullscreenElement) document.exitFullscreen();
      else this.requestFullscreen();
    });
    return b;
  }

  #cycleSpeed(dir) {
    const m = this.#media;
    if (!m) return;
    const i = SPEEDS.indexOf(m.playbackRate);
    const next = i < 0 ? 0 : Math.max(0, Math.min(SPEEDS.length - 1, i + dir));
    m.playbackRate = dir > 0 && i === SPEEDS.length - 1 ? SPEEDS[0] : SPEEDS[next];
  }

  #key(e) {
    if (!this.#media || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.composedPath()[0];
    const inRange = target instanceof HTMLInputElement;
    if (target instanceof HTMLButtonElement && (e.key === ' ' || e.key === 'Enter')) return; // the button's own action
    switch (e.key) {
      case ' ': case 'k': this.toggle(); break;
      case 'ArrowLeft': if (inRange) return; this.seek(this.currentTime - SEEK_STEP); break;
      case 'ArrowRight': if (inRange) return; this.seek(this.currentTime + SEEK_STEP); break;
      case 'ArrowUp': this.#cycleSpeed(1); break;
      case 'ArrowDown': this.#cycleSpeed(-1); break;
      case 'c': this.#toggleCaptions(); break;
      default: return;
    }
    e.preventDefault();
  }

  #toggleCaptions() {
    for (const t of this.#media.textTracks) t.mode = t.mode === 'showing' ? 'hidden' : 'showing';
  }

  #waveform() {
    const canvas = el('canvas', { class: 'wave', 'aria-hidden': 'true' });
    this.#wave = { canvas, data: null, max: 1 };
    canvas.addEventListener('click', (e) => {
      const r = canvas.getBoundingClientRect();
      this.seek((e.clientX - r.left) / r.width * this.duration);
    });
    new ResizeObserver(() => this.#drawWave()).observe(canvas);
    this.#loadPeaks(this.#wave);
    return canvas;
  }

  async #loadPeaks(wave) {
    try {
      const res = await fetch(this.#peaks);
      if (!res.ok) return;
      const p = await res.json();
      wave.data = p.data || [];
      wave.max = 2 ** ((p.bits || 16) - 1);
      this.#drawWave();
    } catch {
      // no waveform: the controls still work
    }
  }

  #drawWave() {
    const w = this.#wave;
    if (!w || !w.data || !this.#media) return;
    const cv = w.canvas;
    const dpr = window.devicePixelRatio || 1;
    cv.width = Math.max(1, Math.round(cv.clientWidth * dpr));
    cv.height = Math.max(1, Math.round(cv.clientHeight * dpr));
    const g = cv.getContext('2d');
    const n = w.data.length / 2;
    const played = this.duration ? this.#media.currentTime / this.duration : 0;
    const mid = cv.height / 2;
    for (let x = 0; x < cv.width; x += 2 * dpr) {
      const [lo, hi] = peakRange(w.data, Math.floor(x / cv.width * n), Math.floor((x + 2 * dpr) / cv.width * n));
      g.fillStyle = x / cv.width < played ? '#5b9dff' : '#9aa4b2';
      const top = mid - hi / w.max * mid, bottom = mid - lo / w.max * mid;
      g.fillRect(x, top, dpr * 1.5, Math.max(dpr, bottom - top));
    }
  }
}

// peakRange returns the lowest min and highest max of peak pairs [from, to).
function peakRange(data, from, to) {
  let lo = 0, hi = 0;
  for (let i = from; i < Math.max(to, from + 1) && 2 * i + 1 < data.length; i++) {
    lo = Math.min(lo, data[2 * i]);
    hi = Math.max(hi, data[2 * i + 1]);
  }
  return [lo, hi];
}

if (!customElements.get('parley-player')) customElements.define('parley-player', ParleyPlayer);

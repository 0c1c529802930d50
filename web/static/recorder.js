// recorder.js drives the recorder of a page (the recorder page, the thread page): pick a
// mode and devices, count down, publish over WHIP while showing time and audio level, stop,
// then review and send. mountRecorder starts it.
import './player.js';
import { publish, WhipError } from './whip.js';
import { Compositor } from './compositor.js';

// data is the recorder's configuration, see mountRecorder.
let data = {};
const $ = (id) => document.getElementById(id);
const ui = {
  status: $('status'), error: $('error'), modes: $('modes'), setup: $('setup'), review: $('review'), sent: $('sent'),
  preview: $('preview'), voice: $('voice'), countdown: $('countdown'), live: $('live'), timer: $('timer'),
  remaining: $('remaining'), level: $('level'), camera: $('camera'), cameraField: $('camera-field'),
  microphone: $('microphone'), start: $('start'), stop: $('stop'), back: $('back'), player: $('review-player'),
  send: $('send'), again: $('again'), shareLink: $('share-link'), another: $('another'),
};

const SECTIONS = { choose: 'modes', preview: 'setup', countdown: 'setup', connecting: 'setup', recording: 'setup',
  stopping: 'setup', review: 'review', sent: 'sent' };

let mode = null;     // camera | audio | screen
let media = null;    // what getUserMedia/getDisplayMedia gave us, see acquire
let session = null;  // WHIP session while recording
let clip = null;     // the clip as the server returned it at stop
let meter = null;
let ticking = null;

function setState(state, status = '') {
  document.body.dataset.state = state;
  for (const [s, id] of Object.entries(SECTIONS)) if (id && s !== state) $(id).hidden = true;
  if (SECTIONS[state]) $(SECTIONS[state]).hidden = false;
  const busy = state === 'countdown' || state === 'connecting' || state === 'recording' || state === 'stopping';
  ui.start.hidden = busy;
  ui.stop.hidden = state !== 'recording';
  ui.back.hidden = busy;
  ui.camera.disabled = ui.microphone.disabled = busy;
  ui.live.hidden = state !== 'recording';
  ui.status.textContent = status;
}

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = !message;
}

function clock(s) {
  s = Math.max(0, Math.floor(s));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

// --- modes -------------------------------------------------------------------------------

function allowedModes() {
  if (data.kind === 'audio') return ['audio'];
  if (data.kind === 'video') return ['camera', 'screen'];
  return ['camera', 'audio', 'screen'];
}

function setupModes() {
  const allowed = allowedModes();
  for (const b of ui.modes.querySelectorAll('button[data-mode]')) {
    b.hidden = !allowed.includes(b.dataset.mode);
    if (b.dataset.mode === 'screen' && !(navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia)) b.hidden = true;
    b.addEventListener('click', () => choose(b.dataset.mode));
  }
}

async function choose(m) {
  mode = m;
  if (!window.isSecureContext || !navigator.mediaDevices) {
    showError('Recording needs a secure connection: open this link with https:// (or on localhost).');
    return;
  }
  showError('');
  ui.cameraField.hidden = m === 'audio';
  ui.voice.hidden = m !== 'audio';
  ui.preview.hidden = m === 'audio';
  setState('preview', 'Asking for access to your ' + (m === 'audio' ? 'microphone' : 'camera and microphone') + '…');
  if (await acquire()) setState('preview', 'Ready when you are.');
}

// --- devices -----------------------------------------------------------------------------

function constraints(kind) {
  const id = kind === 'video' ? ui.camera.value : ui.microphone.value;
  const base = kind === 'video'
    ? (mode === 'screen' ? { width: 320, height: 240 } : { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } })
    : { echoCancellation: true, noiseSuppression: true };
  return id ? { ...base, deviceId: { exact: id } } : base;
}

function deviceMessage(err) {
  if (err && err.screen && err.name === 'NotAllowedError') {
    return 'Screen sharing was cancelled or blocked. Choose Screen again to pick what to share.';
  }
  switch (err && err.name) {
    case 'NotAllowedError': case 'SecurityError':
      return 'Access was denied. Allow the camera and microphone for this site in your browser settings, then choose a mode again.';
    case 'NotFoundError': case 'OverconstrainedError':
      return 'No suitable camera or microphone was found. Connect one and try again.';
    case 'NotReadableError': case 'AbortError':
      return 'Your camera or microphone is in use by another application.';
  }
  return `Could not start capture: ${err && err.message ? err.message : err}`;
}

// acquire opens the devices of the mode and shows the preview. It returns false on failure.
async function acquire() {
  release();
  try {
    const user = await navigator.mediaDevices.getUserMedia({
      audio: constraints('audio'), video: mode === 'audio' ? false : constraints('video'),
    });
    media = { user, screen: null, compositor: null, stream: user };
    if (mode === 'screen') await addScreen();
    ui.preview.srcObject = media.stream;
    startMeter(user);
    await listDevices(user);
    return true;
  } catch (err) {
    release();
    showError(deviceMessage(err));
    setState('choose');
    return false;
  }
}

// addScreen composites the camera as a bubble onto the screen capture: one video track.
async function addScreen() {
  try {
    media.screen = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 30 }, audio: false });
  } catch (err) {
    err.screen = true;
    throw err;
  }
  media.compositor = new Compositor(media.screen, media.user);
  const video = media.compositor.track();
  media.stream = new MediaStream([video, ...media.user.getAudioTracks()]);
  media.screen.getVideoTracks()[0].addEventListener('ended', () => {
    if (session) stop();
  });
}

function release() {
  stopMeter();
  if (!media) return;
  if (media.compositor) media.compositor.close();
  for (const s of [media.user, media.screen, media.stream]) if (s) s.getTracks().forEach((t) => t.stop());
  media = null;
}

async function listDevices(stream) {
  const devices = await navigator.mediaDevices.enumerateDevices();
  const current = (kind) => {
    const t = stream.getTracks().find((tr) => tr.kind === kind);
    return t ? t.getSettings().deviceId : '';
  };
  fill(ui.camera, devices.filter((d) => d.kind === 'videoinput'), current('video'), 'Camera');
  fill(ui.microphone, devices.filter((d) => d.kind === 'audioinput'), current('audio'), 'Microphone');
}

function fill(select, devices, selected, fallback) {
  select.replaceChildren(...devices.map((d, i) => {
    const o = new Option(d.label || `${fallback} ${i + 1}`, d.deviceId);
    o.selected = d.deviceId === selected;
    return o;
  }));
}

// --- level meter -------------------------------------------------------------------------

function startMeter(stream) {
  if (!stream.getAudioTracks().length) return;
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 1024;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  meter = { ctx, frame: 0 };
  const draw = () => {
    analyser.getFloatTimeDomainData(buf);
    let sum = 0;
    for (const v of buf) sum += v * v;
    const db = 20 * Math.log10(Math.sqrt(sum / buf.length) || 1e-6);
    ui.level.style.transform = `scaleX(${Math.max(0, Math.min(1, (db + 60) / 60))})`;
    meter.frame = requestAnimationFrame(draw);
  };
  ctx.resume().catch(() => {});
  draw();
}

function stopMeter() {
  if (!meter) return;
  cancelAnimationFrame(meter.frame);
  meter.ctx.close();
  meter = null;
  ui.level.style.transform = 'scaleX(0)';
}

// --- recording ---------------------------------------------------------------------------

function countdown() {
  ui.countdown.hidden = false;
  return new Promise((resolve) => {
    let n = 3;
    const step = () => {
      if (n === 0) {
        ui.countdown.hidden = true;
        resolve();
        return;
      }
      ui.countdown.textContent = String(n--);
      setTimeout(step, 1000);
    };
    step();
  });
}

function whipURL() {
  const u = new URL(data.whip_url, document.baseURI);
  u.searchParams.set('kind', mode === 'audio' ? 'audio' : 'video');
  for (const [k, v] of Object.entries(data.params ? data.params() : {})) u.searchParams.set(k, v);
  return u.href;
}

async function start() {
  showError('');
  setState('countdown', 'Recording starts in…');
  await countdown();
  setState('connecting', 'Connecting…');
  try {
    session = await publish(whipURL(), data.token, media.stream);
  } catch (err) {
    session = null;
    showError(publishMessage(err));
    setState('preview');
    return;
  }
  document.body.dataset.clipId = session.clipId;
  restarts = 0;
  document.body.dataset.iceRestarts = '0';
  if (data.onStarted) data.onStarted(session.clipId);
  watchConnection(session.pc);
}

function publishMessage(err) {
  if (err instanceof WhipError) {
    if (err.status === 410 || err.status === 401) return `${err.message} Ask for a new link.`;
    return `The server refused the recording: ${err.message}`;
  }
  return 'Could not reach the server. Check your network connection and try again.';
}

const CONNECT_LIMIT_MS = 15000;

// watchConnection follows a session's connection: connected starts the recording; during a
// recording, disconnected for RESTART_AFTER_MS or failed tries an ICE restart (reconnect).
function watchConnection(pc) {
  const notConnected = () => {
    if (!session || session.pc !== pc || document.body.dataset.state !== 'connecting') return false;
    showError('Could not connect to the server for recording. The network may block real-time media (WebRTC); try another network.');
    abandon();
    return true;
  };
  setTimeout(notConnected, CONNECT_LIMIT_MS);
  const stillDown = () => session && session.pc === pc && ['disconnected', 'failed'].includes(pc.connectionState);
  const onChange = () => {
    if (!session || session.pc !== pc) return;
    switch (pc.connectionState) {
      case 'connected':
        if (document.body.dataset.state === 'connecting') recording();
        if (!reconnecting) showError('');
        break;
      case 'disconnected':
        showError('The connection is unstable. Trying to reconnect…');
        setTimeout(() => stillDown() && reconnect(), RESTART_AFTER_MS);
        break;
      case 'failed':
        if (!notConnected()) reconnect();
        break;
    }
  };
  pc.addEventListener('connectionstatechange', onChange);
  onChange();
}

// RESTART_AFTER_MS is how long a recording's connection may stay disconnected before an ICE
// restart; RESTART_DELAYS_MS spaces the attempts, all within RESTART_WINDOW_MS, which is
// inside the server's inactivity limit (10 s without media ends a recording);
// RESTART_CONNECT_MS bounds one attempt's wait for the connection to come back.
const RESTART_AFTER_MS = 2000;
const RESTART_DELAYS_MS = [0, 500, 1000, 2000];
const RESTART_WINDOW_MS = 7000;
const RESTART_CONNECT_MS = 2500;

let reconnecting = null; // the restart in progress, see reconnect
let restarts = 0;        // successful ICE restarts of the current recording

// reconnect tries to bring a recording's connection back with ICE restarts; the recording
// carries on as the same clip. It resolves true on success. When every attempt fails and the
// connection is still down, the recording ends as a network drop.
function reconnect() {
  if (!session || document.body.dataset.state !== 'recording') return Promise.resolve(false);
  if (!reconnecting) reconnecting = restartWithRetries(session).finally(() => { reconnecting = null; });
  return reconnecting;
}

async function restartWithRetries(s) {
  showError('The connection is unstable. Trying to reconnect…');
  const deadline = performance.now() + RESTART_WINDOW_MS;
  try {
    for (const delay of RESTART_DELAYS_MS) {
      await sleep(delay);
      if (session !== s || performance.now() >= deadline) break;
      if (await restartOnce(s, deadline)) {
        reconnected();
        return true;
      }
    }
  } catch {
    // the session has ended on the server
  }
  if (session === s && s.pc.connectionState !== 'connected') await networkDrop();
  else if (session === s) showError('');
  return false;
}

// restartOnce makes one ICE restart attempt and waits for the connection to come back. It
// throws when the server no longer has the session: there is nothing left to resume.
async function restartOnce(s, deadline) {
  try {
    await s.restartIce();
    return await connectedAgain(s.pc, Math.min(RESTART_CONNECT_MS, deadline - performance.now()));
  } catch (err) {
    if (err instanceof WhipError && [404, 409, 410].includes(err.status)) throw err;
    return false;
  }
}

// connectedAgain waits up to ms for the ICE transport to be connected (or completed).
function connectedAgain(pc, ms) {
  const up = () => ['connected', 'completed'].includes(pc.iceConnectionState);
  if (up()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = () => {
      if (!up()) return;
      pc.removeEventListener('iceconnectionstatechange', check);
      resolve(true);
    };
    pc.addEventListener('iceconnectionstatechange', check);
    setTimeout(() => {
      pc.removeEventListener('iceconnectionstatechange', check);
      resolve(up());
    }, Math.max(0, ms));
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// reconnected shows, for a moment, that the recording goes on after a restart.
function reconnected() {
  restarts++;
  document.body.dataset.iceRestarts = String(restarts);
  showError('');
  ui.status.textContent = 'Reconnected.';
  setTimeout(() => {
    if (document.body.dataset.state === 'recording' && ui.status.textContent === 'Reconnected.') ui.status.textContent = 'Recording.';
  }, 3000);
}

function recording() {
  const began = performance.now();
  const limit = data.max_duration_s || 0;
  setState('recording', 'Recording.');
  const tick = () => {
    const s = (performance.now() - began) / 1000;
    ui.timer.textContent = clock(s);
    if (data.limited) ui.remaining.textContent = `· ${clock(limit - s)} left`;
    if (limit && s >= limit - 0.25) stop();
  };
  tick();
  ticking = setInterval(tick, 250);
}

async function stop() {
  if (!session || document.body.dataset.state === 'stopping') return;
  clearInterval(ticking);
  const s = session;
  setState('stopping', 'Saving your recording…');
  try {
    clip = await s.stop();
    session = null;
    review();
  } catch (err) {
    session = null;
    showError(err instanceof WhipError ? `The recording could not be finished: ${err.message}`
      : 'The connection was lost before the recording was finished. Check your network and record again.');
    setState('preview');
  }
}

// networkDrop ends a recording whose connection failed: the server keeps what it received,
// and a DELETE (if the server is still reachable) finishes the clip for review.
async function networkDrop() {
  if (!session) return;
  await stop();
  showError('The connection to the server was lost, so the recording stopped early. What was received is kept; check your network before recording again.');
}

// abandon gives up on a session that never started recording.
function abandon() {
  const s = session;
  session = null;
  s.stop().catch(() => {});
  setState('preview');
}

function review() {
  document.body.dataset.clipId = clip.id;
  if (data.onRecorded) data.onRecorded(clip);
  ui.player.clip = clip;
  setState('review', 'Recorded. Watch it back, then send it or record again.');
}

function send() {
  const url = clip.share_url || new URL(`/c/${clip.id}`, document.baseURI).href;
  ui.shareLink.href = url;
  ui.shareLink.textContent = url;
  release();
  setState('sent', 'Sent.');
  if (data.onSent) data.onSent(clip);
}

async function again() {
  ui.player.clip = null;
  clip = null;
  if (media) setState('preview', 'Ready when you are.');
  else await choose(mode);
}

function backToModes() {
  release();
  setState('choose');
}

window.addEventListener('offline', () => {
  if (session) showError('You are offline. The recording continues when the network comes back, if it does soon.');
});
window.addEventListener('online', () => {
  if (!session) return;
  showError('');
  if (['disconnected', 'failed'].includes(session.pc.connectionState)) reconnect();
});

// parleyRecorder lets tests (and the console) drive what the connection watcher does:
// restartIce() is reconnect, resolving to whether the restart succeeded; ice() describes the
// recording's ICE session (null when there is none).
window.parleyRecorder = { restartIce: () => reconnect(), ice: () => (session ? iceInfo(session) : null) };

// iceInfo reports a session's ICE credentials, ETag and the transport's ufrag in use.
async function iceInfo(s) {
  const ufrag = (d) => (d && /a=ice-ufrag:(\S+)/.exec(d.sdp) || [])[1] || '';
  let transport = '';
  (await s.pc.getStats()).forEach((r) => {
    if (r.type === 'transport' && r.iceLocalUsernameFragment) transport = r.iceLocalUsernameFragment;
  });
  return { etag: s.etag, local: ufrag(s.pc.currentLocalDescription), remote: ufrag(s.pc.currentRemoteDescription),
    transport, state: s.pc.iceConnectionState };
}

// mountRecorder starts the recorder with cfg: token (bearer for WHIP), whip_url, kind
// (video, audio or any), max_duration_s, limited (show the time left), and optionally
// params() (extra WHIP query parameters, read at each start), onStarted(clipId),
// onRecorded(clip) and onSent(clip).
export function mountRecorder(cfg) {
  data = cfg;
  setupModes();
  ui.start.addEventListener('click', start);
  ui.stop.addEventListener('click', stop);
  ui.back.addEventListener('click', backToModes);
  ui.send.addEventListener('click', send);
  ui.again.addEventListener('click', again);
  ui.another.addEventListener('click', backToModes);
  for (const sel of [ui.camera, ui.microphone]) sel.addEventListener('change', acquire);
  if (data.limited) ui.remaining.textContent = `· ${clock(data.max_duration_s)} left`;
  setState('choose');
}

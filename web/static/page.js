// page.js starts the player of the share and embed pages from the page's JSON data. Framed,
// it tells the host page how playback goes — {type: "parley:timeupdate", currentTime, duration,
// paused} posted to the parent (any origin: nothing secret) — and obeys the parent's
// {type: "parley:seek", time}, {type: "parley:play"} and {type: "parley:pause"}.
import './player.js';

const data = JSON.parse(document.getElementById('parley-data').textContent);
const player = document.getElementById('player');
if (data.peaks) player.peaks = data.peaks;
if (data.captions) player.captions = data.captions;
player.clip = data.clip;

function post() {
  parent.postMessage({ type: 'parley:timeupdate', currentTime: player.currentTime, duration: player.duration, paused: player.paused }, '*');
}

function obey(e) {
  const m = e.source === parent && e.data;
  if (!m) return;
  if (m.type === 'parley:seek' && Number.isFinite(m.time)) player.seek(m.time);
  else if (m.type === 'parley:play') player.play().catch(() => {});
  else if (m.type === 'parley:pause') player.pause();
}

if (parent !== window) {
  for (const ev of ['loadeddata', 'play', 'pause', 'timeupdate', 'seeked', 'ended']) player.addEventListener(ev, post);
  addEventListener('message', obey);
}

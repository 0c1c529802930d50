// page.js starts the player of the share and embed pages from the page's JSON data.
import './player.js';

const data = JSON.parse(document.getElementById('parley-data').textContent);
const player = document.getElementById('player');
if (data.peaks) player.peaks = data.peaks;
player.clip = data.clip;

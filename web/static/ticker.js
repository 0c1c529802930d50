// ticker.js posts a message every interval it is sent (in milliseconds). Worker timers are not
// throttled in background tabs.
let timer = 0;
onmessage = (e) => {
  clearInterval(timer);
  timer = setInterval(() => postMessage(0), e.data);
};

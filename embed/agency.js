// The demo agency pages' own script: lists the widget's events as the page
// receives them. They bubble and are composed, so the document hears them
// from <hbg-booking> (and <hbg-booking-frame> re-dispatches them).
// The widget's host events (booking-core's HostEvent::NAMES; a test checks).
const EVENTS = [
  "ready",
  "course-chosen",
  "location-chosen",
  "event-chosen",
  "hold-created",
  "hold-expiring",
  "hold-expired",
  "submit-started",
  "payment-redirect",
  "booking-created",
  "booking-confirmed",
  "error",
];
const log = document.getElementById("event-log");
for (const name of EVENTS) {
  document.addEventListener(`hbg:${name}`, (event) => {
    const item = document.createElement("li");
    const type = document.createElement("code");
    type.textContent = event.type;
    const detail = document.createElement("span");
    detail.textContent = ` ${JSON.stringify(event.detail)}`;
    item.append(type, detail);
    log.append(item);
  });
}

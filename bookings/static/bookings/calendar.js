// Drag an appointment onto a free time of the staff calendar to move it.  It posts the same form
// as the "Move" page (day, practitioner, free time), so the server checks everything again and
// answers with the calendar (moved) or the move page with the reason (refused).  Without
// JavaScript, or with a keyboard, the "Move" link opens that page.
(function () {
  "use strict";
  var form = document.getElementById("calendar-move-form");
  if (!form) {
    return;
  }
  var hint = document.querySelector("[data-calendar-hint]");
  if (hint) {
    hint.hidden = false;
  }
  var dragged = null;

  document.querySelectorAll(".calendar-entry[data-move-url]").forEach(function (entry) {
    entry.addEventListener("dragstart", function (event) {
      dragged = entry;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", entry.dataset.moveUrl);
    });
    entry.addEventListener("dragend", function () {
      dragged = null;
    });
  });

  document.querySelectorAll("td[data-drop-slot]").forEach(function (cell) {
    cell.addEventListener("dragover", function (event) {
      if (dragged) {
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        cell.classList.add("calendar-drop-target");
      }
    });
    cell.addEventListener("dragleave", function () {
      cell.classList.remove("calendar-drop-target");
    });
    cell.addEventListener("drop", function (event) {
      event.preventDefault();
      cell.classList.remove("calendar-drop-target");
      if (!dragged) {
        return;
      }
      form.action = dragged.dataset.moveUrl;
      form.elements.day.value = cell.dataset.dropDay;
      form.elements.practitioner.value = cell.dataset.dropPractitioner;
      form.elements.starts_at.value = cell.dataset.dropSlot;
      form.submit();
    });
  });
})();

/* The back office's only script: "Copy" buttons beside read-only links. Without it the
   links are still there to select and copy by hand. No inline code: CSP-friendly. */
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy-for]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-for"));
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (!field) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { if (status) { status.textContent = button.dataset.copied; } };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
}());

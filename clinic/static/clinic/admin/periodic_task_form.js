/* django-celery-beat's periodic task form: show the chosen crontab in words.
   Same behaviour as the package's inline script, as a file so the CSP can forbid inline code. */
(function ($) {
  "use strict";
  var readableCrontabs = JSON.parse($("#readable-crontabs").text());
  var help = $(".field-crontab .help");
  var originalCrontabHelp = help.html() || "";

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var translation = readableCrontabs[$("#id_crontab").val()];
    help.empty().append(originalCrontabHelp, $("<br>"), document.createTextNode("Translation: " + (translation || "")));
  });
})(django.jQuery);

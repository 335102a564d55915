// The open-data page (/catalog in a browser): the button shows the page in the other language.
// A file of its own, not inline: the Content-Security-Policy allows scripts from LandMap only.
(function () {
  "use strict";
  const button = document.getElementById("lang");
  button.addEventListener("click", () => {
    const lang = document.documentElement.lang === "vi" ? "en" : "vi";
    document.documentElement.lang = lang;
    button.textContent = lang === "vi" ? "EN" : "VI";
  });
})();

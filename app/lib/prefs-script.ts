/**
 * Display preferences (theme, text size), kept in localStorage and applied to <html> by an
 * inline script before the first paint, so there is no flash of the wrong theme.
 */
export const THEME_KEY = "nslab:theme";
export const SIZE_KEY = "nslab:text-size";

export const PREFS_SCRIPT = `(function(){try{var d=document.documentElement;var t=localStorage.getItem(${JSON.stringify(
  THEME_KEY,
)});if(t!=="dark"&&t!=="light")t=matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light";d.setAttribute("data-theme",t);if(localStorage.getItem(${JSON.stringify(
  SIZE_KEY,
)})==="large")d.setAttribute("data-size","large")}catch(e){}})()`;

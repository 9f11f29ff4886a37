// intentionally empty: see hooks.mjs

"use client";
import { focusTerminal } from "@/app/lib/panes";

/** A skip link (visible when focused) that puts the keyboard in the lab's terminal. */
export function SkipToTerminal({ label }: { label: string }) {
  return (
    <a
      href="#lab"
      onClick={(e) => {
        if (focusTerminal()) e.preventDefault();
      }}
      className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:z-50 focus:rounded focus:bg-surface focus:px-3 focus:py-1.5 focus:shadow"
      data-testid="skip-to-terminal"
    >
      {label}
    </a>
  );
}

import { Fragment } from "react";
import { segments, splitTokens } from "@/app/lib/tokens";

/** Text that wraps between tokens only (see app/lib/tokens.ts). */
export function Tokens({ text }: { text: string }) {
  return (
    <>
      {splitTokens(text).map((p, i) =>
        p.space ? (
          <Fragment key={i}>{p.text}</Fragment>
        ) : (
          <Fragment key={i}>
            {segments(p.text).map((s, j) => (
              <Fragment key={j}>
                {j > 0 && <wbr />}
                <span className="nslab-tok">{s}</span>
              </Fragment>
            ))}
          </Fragment>
        ),
      )}
    </>
  );
}

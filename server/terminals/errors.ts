import "server-only";

/** The lab has its maximum of terminals (Config.terminalsPerLab). */
export class TooManyTerminalsError extends Error {
  constructor(readonly max: number) {
    super(`A lab can have at most ${max} terminals.`);
  }
}

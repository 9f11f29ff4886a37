/**
 * What the pages need of a lesson: plain, serialisable data (server components hand it to
 * client components). app/lib/catalog.ts maps the lesson catalog onto these shapes.
 */
import type { Lang } from "@/app/i18n/dict";

export interface CatalogEntry {
  id: string;
  title: string;
  summary: string;
  order: number;
  minutes: number;
  namespaces: string[];
  prerequisites: string[];
  stepCount: number;
  /** Written in the language asked for (otherwise shown in English). */
  translated: boolean;
}

export interface StepView {
  id: string;
  title: string;
  html: string;
  hints: string[];
  hasCheck: boolean;
  hasSolution: boolean;
  /** The check asks for an answer; this is the prompt (HTML). */
  answerHtml?: string;
}

export interface LessonView extends CatalogEntry {
  lang: Lang;
  introHtml: string;
  finishHtml: string;
  steps: StepView[];
}

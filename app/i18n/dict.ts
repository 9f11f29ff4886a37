/**
 * Every UI string in both languages, in one place. Lesson text comes from the lessons themselves;
 * this is only the chrome around it. Keep the two dictionaries in the same order.
 */

import type { Lang } from "@/lib/languages";

// the language list is lib/languages.ts (lessons use the same one)
export { DEFAULT_LANG, isLang, LANGUAGES, type Lang } from "@/lib/languages";
export const LANG_COOKIE = "nslab-lang";

const en = {
  productTagline: "Learn Linux namespaces with the real thing",
  languageName: "English",
  language: "Language",
  switchTheme: "Switch theme",
  themeDark: "Dark theme",
  themeLight: "Light theme",
  largeText: "Large text",
  skipToContent: "Skip to content",
  home: "Lessons",
  source: "Source",

  // catalogue
  heroTitle: "How containers really work",
  heroText:
    "Every lesson comes with a live terminal into your own lab: a sandbox built from real user, PID, mount, UTS, IPC, network and cgroup namespaces. Read, run, poke around, break things.",
  lessonsHeading: "Lessons",
  noLessons: "No lessons are installed yet.",
  minutes: (n: number) => `${n} min`,
  stepsCount: (n: number) => (n === 1 ? "1 step" : `${n} steps`),
  progress: (done: number, total: number) => `${done} of ${total} steps done`,
  progressShort: (done: number, total: number) => `${done}/${total}`,
  completed: "Completed",
  notStarted: "Not started",
  start: "Start",
  continue: "Continue",
  review: "Review",
  namespacesTouched: "Namespaces",
  prerequisites: "Before this",
  notTranslated: "This lesson is not translated into English yet.",
  englishOnly: "English only",
  footerNote: "nslab is open source and self-hostable. Labs are real namespaces on the server you are connected to.",

  // lesson page
  backToLessons: "All lessons",
  lessonPane: "Lesson",
  labPane: "Lab",
  resizePanes: "Resize the lesson and lab panes",
  resizeExplorer: "Resize the terminal and explorer panes",
  introduction: "Introduction",
  step: (n: number) => `Step ${n}`,
  run: "Run",
  runIn: (n: number) => `Run in terminal ${n}`,
  runTitle: "Type this into the terminal and press Enter (Ctrl+Enter)",
  interruptNote: "Sends Ctrl-C first",
  copy: "Copy",
  copied: "Copied",
  check: "Check",
  checking: "Checking…",
  passed: "Passed",
  failed: "Not yet",
  hint: "Hint",
  showHint: "Show a hint",
  nextHint: "Next hint",
  hintN: (n: number, total: number) => `Hint ${n} of ${total}`,
  noMoreHints: "No more hints.",
  stepOf: (n: number, total: number) => `Step ${n} of ${total}`,
  lessonDone: "Lesson complete",
  nextLesson: "Next lesson",
  resetProgress: "Reset progress",
  resetProgressConfirm: "Forget which steps of this lesson you passed?",
  checkNeedsLab: "The lab is not ready yet.",
  checkFailedNetwork: "The check could not run. Is the server reachable?",
  autoChecked: "Checked automatically after your last command",
  markDone: "Mark as done",
  nextStep: "Next step",
  solve: "Solve it for me",
  solving: "Solving…",
  solveConfirm: "Run this step's solution in your lab? It does the step for you.",
  solutionOutput: "What the solution printed",

  // lab
  labStarting: "Creating your lab…",
  labStartingDetail: "Setting up fresh namespaces just for you.",
  labChecking: "Finding your lab…",
  labGone: "This lab is gone",
  labGoneDetail: "It was shut down (idle for too long, reset, or the server restarted).",
  labNew: "Start a new lab",
  labError: "The lab could not be created",
  retry: "Try again",
  rateLimited: "Too many labs right now",
  resetLab: "Reset lab",
  resetLabConfirm: "Throw this lab away and start a fresh one? Everything in it is lost.",
  labInfo: (host: string, mode: string) => `${host} · ${mode}`,
  modeRoot: "root mode",
  modeRootless: "rootless mode",

  // terminals
  terminals: "Terminals",
  terminal: (n: number) => `Terminal ${n}`,
  addTerminal: "New terminal",
  closeTerminal: (n: number) => `Close terminal ${n}`,
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  reconnectingIn: (s: number) => `Connection lost. Reconnecting in ${s}s…`,
  reconnectNow: "Reconnect now",
  connected: "Connected",
  exited: (code: string) => `exited ${code}`,
  exitedTitle: (code: string) => `The shell exited (${code}).`,
  terminalClosed: "Terminal closed",
  newTerminal: "Open a new terminal",
  attachedElsewhere: "This terminal is open in another window.",
  takeOver: "Use it here",
  tooManyTerminals: "Too many terminals",
  terminalLabel: (n: number) => `Terminal ${n} of the lab`,

  // explorer
  explorer: "Explorer",
  showExplorer: "Show the namespace explorer",
  hideExplorer: "Hide the namespace explorer",

  notFoundTitle: "Nothing here",
  notFoundText: "That lesson does not exist (any more).",
};

export type Dict = typeof en;

const zhCN: Dict = {
  productTagline: "用真实的系统学习 Linux 命名空间",
  languageName: "简体中文",
  language: "语言",
  switchTheme: "切换主题",
  themeDark: "深色主题",
  themeLight: "浅色主题",
  largeText: "大字号",
  skipToContent: "跳到正文",
  home: "课程",
  source: "源代码",

  heroTitle: "容器到底是怎么工作的",
  heroText:
    "每节课都配有一个连到你自己的实验环境的终端：一个由真实的 user、PID、mount、UTS、IPC、network 和 cgroup 命名空间搭起来的沙箱。边读、边运行、边探索，放心去折腾。",
  lessonsHeading: "课程",
  noLessons: "还没有安装任何课程。",
  minutes: (n: number) => `${n} 分钟`,
  stepsCount: (n: number) => `${n} 步`,
  progress: (done: number, total: number) => `已完成 ${done} / ${total} 步`,
  progressShort: (done: number, total: number) => `${done}/${total}`,
  completed: "已完成",
  notStarted: "未开始",
  start: "开始",
  continue: "继续",
  review: "回顾",
  namespacesTouched: "命名空间",
  prerequisites: "先修",
  notTranslated: "本课还没有中文版本，下面显示的是英文原文。",
  englishOnly: "仅英文",
  footerNote: "nslab 是开源的，可自行部署。实验环境是你所连接的服务器上真实的命名空间。",

  backToLessons: "全部课程",
  lessonPane: "课程",
  labPane: "实验环境",
  resizePanes: "调整课程与实验面板的宽度",
  resizeExplorer: "调整终端与命名空间视图的高度",
  introduction: "简介",
  step: (n: number) => `第 ${n} 步`,
  run: "运行",
  runIn: (n: number) => `在终端 ${n} 中运行`,
  runTitle: "把这条命令输入终端并回车（Ctrl+Enter）",
  interruptNote: "先发送 Ctrl-C",
  copy: "复制",
  copied: "已复制",
  check: "检查",
  checking: "检查中…",
  passed: "通过",
  failed: "还没有",
  hint: "提示",
  showHint: "显示提示",
  nextHint: "下一条提示",
  hintN: (n: number, total: number) => `提示 ${n} / ${total}`,
  noMoreHints: "没有更多提示了。",
  stepOf: (n: number, total: number) => `第 ${n} / ${total} 步`,
  lessonDone: "本课完成",
  nextLesson: "下一课",
  resetProgress: "重置进度",
  resetProgressConfirm: "清除这节课已通过的步骤记录？",
  checkNeedsLab: "实验环境还没有准备好。",
  checkFailedNetwork: "检查没能运行。服务器可以访问吗？",
  autoChecked: "已在你上一条命令之后自动检查",
  markDone: "标记为完成",
  nextStep: "下一步",
  solve: "帮我完成",
  solving: "正在完成…",
  solveConfirm: "在你的实验环境中运行这一步的参考答案？它会替你完成这一步。",
  solutionOutput: "参考答案的输出",

  labStarting: "正在创建你的实验环境…",
  labStartingDetail: "正在为你准备全新的命名空间。",
  labChecking: "正在查找你的实验环境…",
  labGone: "这个实验环境已经不在了",
  labGoneDetail: "它已被关闭（闲置太久、被重置，或服务器重启了）。",
  labNew: "新建实验环境",
  labError: "无法创建实验环境",
  retry: "重试",
  rateLimited: "当前实验环境太多",
  resetLab: "重置实验环境",
  resetLabConfirm: "丢弃这个实验环境并重新创建一个？其中的一切都会丢失。",
  labInfo: (host: string, mode: string) => `${host} · ${mode}`,
  modeRoot: "root 模式",
  modeRootless: "无 root 模式",

  terminals: "终端",
  terminal: (n: number) => `终端 ${n}`,
  addTerminal: "新建终端",
  closeTerminal: (n: number) => `关闭终端 ${n}`,
  connecting: "连接中…",
  reconnecting: "重新连接中…",
  reconnectingIn: (s: number) => `连接已断开，${s} 秒后重连…`,
  reconnectNow: "立即重连",
  connected: "已连接",
  exited: (code: string) => `已退出 ${code}`,
  exitedTitle: (code: string) => `shell 已退出（${code}）。`,
  terminalClosed: "终端已关闭",
  newTerminal: "打开新终端",
  attachedElsewhere: "这个终端已在另一个窗口中打开。",
  takeOver: "在这里使用",
  tooManyTerminals: "终端太多了",
  terminalLabel: (n: number) => `实验环境的终端 ${n}`,

  explorer: "命名空间视图",
  showExplorer: "显示命名空间视图",
  hideExplorer: "隐藏命名空间视图",

  notFoundTitle: "这里什么都没有",
  notFoundText: "这节课不存在（或已被移除）。",
};

const DICTS: Record<Lang, Dict> = { en, "zh-CN": zhCN };

export function dict(lang: Lang): Dict {
  return DICTS[lang];
}

/** The URL of the current page in another language. */
export function withLang(href: string, lang: Lang): string {
  const [path, query = ""] = href.split("?", 2) as [string, string | undefined];
  const q = new URLSearchParams(query);
  q.set("lang", lang);
  return `${path}?${q.toString()}`;
}

/** The words of the lesson widgets (predictions, explore cards, answers), in the site's languages. */
import type { Lang } from "@/app/i18n/dict";

const en = {
  predict: "Predict first",
  predictHelp: "What do you expect? Decide before you run the command below.",
  yourGuess: "Your prediction",
  lockIn: "Lock in my prediction",
  skip: "Skip",
  skipped: "You skipped the prediction.",
  typeGuess: "Type what you expect",
  predictFirst: "Predict first (above), then run this.",
  runAnyway: "Run without predicting",
  youPredicted: "You predicted",
  kernelDid: "What the kernel did",
  match: "Your prediction matched.",
  noMatch: "Not what you predicted: worth a second look.",
  waitingForRun: "Run the command above; what the kernel did appears here.",
  lookNow: "What happened?",
  lookAgain: "Look again",
  looking: "Looking at the lab…",
  choice: (n: number) => `choice ${n}`,
  change: "Change",
  showInExplorer: "Show me in the Explorer",
  showing: "Opening the Explorer…",
  explorerTab: { processes: "Processes", namespaces: "Namespaces", mounts: "Mounts", users: "Users" },
  inTab: (tab: string) => `Opens the Explorer at ${tab} and highlights what to look at.`,
  answerLabel: "Your answer",
  answerPlaceholder: "Type the answer the lab gives you",
  needsLab: "The lab is not ready yet.",
  network: "The lab could not be reached.",
};

export type LessonStrings = typeof en;

const zhCN: LessonStrings = {
  predict: "先预测",
  predictHelp: "你预计会发生什么？运行下面的命令之前先做决定。",
  yourGuess: "你的预测",
  lockIn: "确定我的预测",
  skip: "跳过",
  skipped: "你跳过了这次预测。",
  typeGuess: "输入你预计的结果",
  predictFirst: "先在上面做出预测，再运行这条命令。",
  runAnyway: "不预测，直接运行",
  youPredicted: "你的预测",
  kernelDid: "内核实际的结果",
  match: "你预测对了。",
  noMatch: "和你的预测不一样：值得再想一想。",
  waitingForRun: "运行上面的命令；内核的结果会显示在这里。",
  lookNow: "发生了什么？",
  lookAgain: "再看一次",
  looking: "正在查看实验环境……",
  choice: (n: number) => `选项 ${n}`,
  change: "修改",
  showInExplorer: "在命名空间视图中查看",
  showing: "正在打开命名空间视图……",
  explorerTab: { processes: "进程", namespaces: "命名空间", mounts: "挂载", users: "用户" },
  inTab: (tab: string) => `在命名空间视图的“${tab}”标签页中打开，并高亮要看的内容。`,
  answerLabel: "你的答案",
  answerPlaceholder: "输入实验环境给出的答案",
  needsLab: "实验环境还没有准备好。",
  network: "无法连接实验环境。",
};

export function lessonStrings(lang: Lang): LessonStrings {
  return lang === "zh-CN" ? zhCN : en;
}

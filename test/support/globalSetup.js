// End-to-end tests start real processes from dist/, so compile once per run.
const { execFileSync } = require("node:child_process");

module.exports = async function globalSetup() {
  execFileSync("npm", ["run", "--silent", "build"], { stdio: "inherit", cwd: `${__dirname}/../..` });
};

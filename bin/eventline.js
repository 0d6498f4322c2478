#!/usr/bin/env node
// Entry for `npx eventline <role>`; the code runs from the swc build in dist/.
require("../dist/src/main.js");

/** Plain, timestamped lines; structured logging arrives with the operability work. */
export function createLog(role: string): (line: string) => void {
  return (line) => process.stdout.write(`${new Date().toISOString()} [${role}] ${line}\n`);
}

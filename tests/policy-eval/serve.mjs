// A long-lived evaluator for the emulator's fidelity layer (tests/fidelity/iam.py): reads one JSON
// request per line on stdin, in the row shape of evaluate.mjs ({id, principal, action, resource,
// resource_account, context, identity_policies, resource_policy}), and answers one line per request
// ({id, decision, errors}) on stdout, in order. One process serves every AssumeRole of a run, so
// the Node start-up is paid once.
import { createInterface } from 'node:readline'
import { runSimulation } from '@cloud-copilot/iam-simulate'

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let row
  try {
    row = JSON.parse(line)
    const result = await runSimulation(
      {
        request: {
          principal: row.principal,
          action: row.action,
          resource: { resource: row.resource, accountId: row.resource_account },
          contextVariables: row.context || {},
        },
        identityPolicies: (row.identity_policies || []).map((policy, i) => ({ name: `identity-${i}`, policy })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: row.resource_policy,
      },
      { simulationMode: 'Strict' },
    )
    const answer = result.resultType === 'error'
      ? { id: row.id, decision: 'Error', errors: result.errors }
      : { id: row.id, decision: result.overallResult, errors: null }
    process.stdout.write(JSON.stringify(answer) + '\n')
  } catch (e) {
    process.stdout.write(JSON.stringify({ id: row && row.id, decision: 'Error', errors: String(e) }) + '\n')
  }
}

// Reads a JSON array of access-matrix rows on stdin, asks @cloud-copilot/iam-simulate for each
// row's decision, and prints a JSON array of {id, decision, ignored, errors} on stdout. `ignored`
// lists the context keys the simulator does not model for that action (it drops them, so a
// condition on them cannot match): the Rust test checks that list against what it expects. The decision is the
// simulator's overallResult: "Allowed", "ExplicitlyDenied" or "ImplicitlyDenied". Asserting is the
// Rust test's job: this script only forwards rows to the simulator, in strict mode.
import { runSimulation } from '@cloud-copilot/iam-simulate'

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const rows = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const out = []
for (const row of rows) {
  const simulation = {
    request: {
      principal: row.principal,
      action: row.action,
      resource: { resource: row.resource, accountId: row.resource_account },
      contextVariables: row.context,
    },
    identityPolicies: (row.identity_policies || []).map((policy, i) => ({ name: `identity-${i}`, policy })),
    serviceControlPolicies: row.scps || [],
    resourceControlPolicies: [],
    resourcePolicy: row.resource_policy,
  }
  const result = await runSimulation(simulation, { simulationMode: 'Strict' })
  if (result.resultType === 'error') {
    out.push({ id: row.id, decision: 'Error', ignored: [], errors: result.errors })
  } else {
    out.push({ id: row.id, decision: result.overallResult, ignored: result.result.ignoredContextKeys || [], errors: null })
  }
}
process.stdout.write(JSON.stringify(out))

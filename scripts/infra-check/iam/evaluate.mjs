// Evaluates each request of cases.json (made by requests.py) with
// @cloud-copilot/iam-simulate: the principal's identity policies, plus the
// bucket policy or the key policy as the resource policy, and compares the
// decision with the expected one. Prints one line per request; exits 1 on
// any mismatch or simulation error.
//
//   node evaluate.mjs cases.json
import { readFileSync } from 'node:fs'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'

// validated: runSimulation, which first checks the policies, the action, the
// resource's ARN against the action's resource types and the context keys.
async function validated(simulation) {
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error') {
    return { decision: 'error', detail: JSON.stringify(result.errors) }
  }
  const overall = result.overallResult
  // ExplicitlyDenied and ImplicitlyDenied are both a refusal.
  let detail = overall
  if (result.resultType === 'single' && result.result.ignoredContextKeys?.length) {
    // A context key the action does not have: the request is not what AWS sees.
    return { decision: 'error', detail: `${overall}, but ignored context keys ${result.result.ignoredContextKeys.join(', ')}` }
  }
  return { decision: overall === 'Allowed' ? 'Allow' : 'Deny', detail }
}

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'))
let failed = 0
let passed = 0
for (const r of cases.requests) {
  const resourcePolicies = r.policies.map((p) => cases.resource_policies[p])
  const simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: cases.account },
      contextVariables: r.context,
    },
    identityPolicies: cases.identity[r.principal] ?? [],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: resourcePolicies[0],
  }
  let decision
  let detail = ''
  if (r.unvalidated) {
    // runUnsafeSimulation: the same evaluation without the input checks.
    const overall = await runUnsafeSimulation(simulation, {})
    decision = overall === 'Allowed' ? 'Allow' : 'Deny'
    detail = `${overall} (evaluated without ARN validation)`
  } else {
    ;({ decision, detail } = await validated(simulation))
  }
  const ok = decision === r.expect
  if (ok) passed++
  else failed++
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${r.who.padEnd(6)} ${r.action} ${r.resource.replace(/^arn:aws:[a-z0-9]+:[a-z0-9-]*:[0-9]*:?/, '')}: expected ${r.expect}, got ${detail}  [${r.why}]`,
  )
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)

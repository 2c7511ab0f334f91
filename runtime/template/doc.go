// Package template expands the Go templates Docker allows in swarm tasks, as swarmkit's agent does
// before a task's container is made:
//
//   - in the container spec: Env values, Hostname, and the Source, Target, volume labels and volume
//     driver options of Mounts (ExpandContainerSpec);
//   - in the data of secrets and configs created with --template-driver golang (ExpandPayload).
//
// A template sees a Context: {{.Service.ID}}, {{.Service.Name}}, {{.Service.Labels}}, {{.Node.ID}},
// {{.Node.Hostname}}, {{.Node.Platform.OS}}, {{.Node.Platform.Architecture}}, {{.Task.ID}},
// {{.Task.Name}} and {{.Task.Slot}}; the function join (separator first). Secret and config templates
// also have env (a variable of the container spec's env), secret and config (the raw data of another
// secret or config of the task, by its file target name).
//
// Templates are text/template templates named "expansion" with missingkey=error; errors carry
// swarmkit's texts (e.g. `expanding hostname failed: template: expansion:1: function "x" not
// defined`, `unrecognized template type`). The package is pure: no I/O.
package template

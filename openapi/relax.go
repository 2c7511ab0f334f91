package openapi

import (
	"bytes"
	"encoding/json"

	"github.com/getkin/kin-openapi/openapi3"
)

// The swagger and dockerd disagree in a few known ways. The checks follow
// dockerd, because that is what clients were written against:
//
//  1. Null members. dockerd marshals Go structs, so a nil slice or map in a
//     field without omitempty goes out as `null` (Warnings, Labels, Binds,
//     IPAM.Options, Containers of a network...), while the swagger marks few
//     of them x-nullable. A member whose value is null is treated as absent
//     (relaxBody): it still fails if the schema lists it as required. A null
//     body, and null items inside arrays, are not relaxed: list endpoints must
//     answer `[]`, never `null`.
//  2. Secret and config creation answer {"ID": "..."} (swarm.SecretCreateResponse
//     and swarm.ConfigCreateResponse have no json tag), while the swagger says
//     IDResponse {"Id": "..."}. Their 201 schema is replaced by {"ID": string}
//     (relaxSwagger).
//  3. Hijacked routes answer 101 Switching Protocols when the client asks for
//     an upgrade; the swagger documents 101 only for attach. 101 is accepted on
//     every route in hijackRoutes.
//  4. Log streams: dockerd before API 1.42 sends no Content-Type on
//     /containers|services|tasks/{id}/logs. A response without Content-Type is
//     accepted where the swagger gives only non-JSON media types; where it
//     gives application/json, a missing Content-Type is a violation.
//  5. An error status the swagger does not list for a route (dockerd returns
//     400 on bad parameters everywhere, for instance) is accepted when its body
//     is Docker's ErrorResponse {"message": "..."}. An undocumented success
//     status is a violation.
//  6. Service UpdateStatus.State: the swagger lists updating, paused and
//     completed, but dockerd also reports rollback_started, rollback_paused and
//     rollback_completed (swarm.UpdateStateRollback*), which the CLI's progress
//     display reads. The enum is widened to Docker's six states.
//
// Additional properties are allowed, as OpenAPI says by default: dockerd
// sends fields the swagger does not list (e.g. ServiceStatus on older
// versions), and clients ignore unknown fields.

// hijackRoutes are the swagger paths whose handlers may hijack the connection.
var hijackRoutes = map[string]bool{
	"/containers/{id}/attach": true,
	"/exec/{id}/start":        true,
	"/session":                true,
	"/grpc":                   true,
}

// createdByID are the operations whose 201 body is {"ID": "..."} in dockerd.
var createdByID = []string{"/secrets/create", "/configs/create"}

// relaxSwagger applies the document relaxations listed above.
func relaxSwagger(doc *openapi3.T) {
	idSchema := openapi3.NewObjectSchema().
		WithProperty("ID", openapi3.NewStringSchema()).
		WithRequired([]string{"ID"})
	for _, path := range createdByID {
		item := doc.Paths.Find(path)
		if item == nil || item.Post == nil {
			continue
		}
		resp := item.Post.Responses.Status(201)
		if resp == nil || resp.Value == nil {
			continue
		}
		for _, media := range resp.Value.Content {
			media.Schema = idSchema.NewRef()
		}
	}
	if state := updateStateSchema(doc); state != nil {
		state.Enum = []any{"updating", "paused", "completed", "rollback_started", "rollback_paused", "rollback_completed"}
	}
}

// updateStateSchema finds Service.UpdateStatus.State in the document (nil if the shape changed).
func updateStateSchema(doc *openapi3.T) *openapi3.Schema {
	svc := doc.Components.Schemas["Service"]
	if svc == nil || svc.Value == nil {
		return nil
	}
	us := svc.Value.Properties["UpdateStatus"]
	if us == nil || us.Value == nil {
		return nil
	}
	st := us.Value.Properties["State"]
	if st == nil {
		return nil
	}
	return st.Value
}

// relaxBody drops members whose value is null from every object in v (see 1
// above). It returns v unchanged when v is not valid JSON or is null itself.
func relaxBody(v []byte) []byte {
	var x any
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	if err := dec.Decode(&x); err != nil || x == nil {
		return v
	}
	out, err := json.Marshal(dropNullMembers(x))
	if err != nil {
		return v
	}
	return out
}

func dropNullMembers(x any) any {
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if v == nil {
				delete(t, k)
				continue
			}
			t[k] = dropNullMembers(v)
		}
	case []any:
		for i, v := range t {
			t[i] = dropNullMembers(v)
		}
	}
	return x
}

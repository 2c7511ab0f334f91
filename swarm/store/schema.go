package store

import (
	"fmt"
	"strconv"

	memdb "github.com/hashicorp/go-memdb"
)

// Index names.
const (
	indexID      = "id"
	indexName    = "name"
	indexService = "service"
	indexNode    = "node"
	indexSlot    = "slot"
	indexState   = "state"
)

// stringIndex indexes an object by a string computed from it; "" means not indexed.
type stringIndex func(o Object) string

func (f stringIndex) FromObject(raw any) (bool, []byte, error) {
	v := f(raw.(Object))
	if v == "" {
		return false, nil, nil
	}
	return true, []byte(v + "\x00"), nil
}

func (f stringIndex) FromArgs(args ...any) ([]byte, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("store: index takes one argument, got %d", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("store: index argument must be a string, got %T", args[0])
	}
	return []byte(s + "\x00"), nil
}

func (f stringIndex) PrefixFromArgs(args ...any) ([]byte, error) {
	b, err := f.FromArgs(args...)
	if err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil
}

func schema() *memdb.DBSchema {
	tables := map[string]*memdb.TableSchema{}
	for _, k := range allKinds {
		idx := map[string]*memdb.IndexSchema{
			indexID: {Name: indexID, Unique: true, Indexer: stringIndex(func(o Object) string { return o.GetID() })},
		}
		switch k {
		case KindService, KindNetwork, KindSecret, KindConfig:
			idx[indexName] = &memdb.IndexSchema{Name: indexName, AllowMissing: true, Indexer: stringIndex(func(o Object) string { return o.UniqueName() })}
		case KindNode:
			idx[indexName] = &memdb.IndexSchema{Name: indexName, AllowMissing: true, Indexer: stringIndex(func(o Object) string {
				return o.(*Node).Description.Hostname
			})}
		case KindTask:
			idx[indexService] = &memdb.IndexSchema{Name: indexService, AllowMissing: true, Indexer: stringIndex(func(o Object) string { return o.(*Task).ServiceID })}
			idx[indexNode] = &memdb.IndexSchema{Name: indexNode, AllowMissing: true, Indexer: stringIndex(func(o Object) string { return o.(*Task).NodeID })}
			idx[indexSlot] = &memdb.IndexSchema{Name: indexSlot, AllowMissing: true, Indexer: stringIndex(func(o Object) string { return slotKey(o.(*Task)) })}
			idx[indexState] = &memdb.IndexSchema{Name: indexState, AllowMissing: true, Indexer: stringIndex(func(o Object) string { return string(o.(*Task).Status.State) })}
		}
		tables[string(k)] = &memdb.TableSchema{Name: string(k), Indexes: idx}
	}
	return &memdb.DBSchema{Tables: tables}
}

// slotKey groups the tasks of one replicated slot ("service/slot") or of one global service's node
// ("service/node/nodeID").
func slotKey(t *Task) string {
	if t.ServiceID == "" {
		return ""
	}
	if t.Slot != 0 {
		return t.ServiceID + "/" + strconv.Itoa(t.Slot)
	}
	if t.NodeID != "" {
		return t.ServiceID + "/node/" + t.NodeID
	}
	return ""
}

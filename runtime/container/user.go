package container

import (
	"fmt"

	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
)

// resolvedUser is a user spec resolved against the container's /etc/passwd and /etc/group.
type resolvedUser struct {
	UID    int   `json:"uid"`
	GID    int   `json:"gid"`
	Groups []int `json:"groups,omitempty"`
}

// resolveUser resolves spec ("", "name", "uid", "name:group", "uid:gid"...) and the extra groups
// inside rootfs, as Docker does: a name must exist in the container's files, a number need not.
func resolveUser(rootfs, spec string, extraGroups []string) (resolvedUser, error) {
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return resolvedUser{}, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return resolvedUser{}, err
	}
	defaults := &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}
	eu, err := user.GetExecUserPath(spec, defaults, passwd, group)
	if err != nil {
		// its text already names the user: "unable to find user x: no matching entries in passwd file"
		return resolvedUser{}, invalidf("%v", err)
	}
	// As dockerd: the primary group, then the user's supplementary groups, then the extra ones.
	ru := resolvedUser{UID: eu.Uid, GID: eu.Gid, Groups: append([]int{eu.Gid}, eu.Sgids...)}
	if len(extraGroups) > 0 {
		gids, err := user.GetAdditionalGroupsPath(extraGroups, group)
		if err != nil {
			return resolvedUser{}, invalidf("unable to find additional groups %v: %v", extraGroups, err)
		}
		ru.Groups = append(ru.Groups, gids...)
	}
	return ru, nil
}

func (u resolvedUser) String() string { return fmt.Sprintf("%d:%d", u.UID, u.GID) }

#!/usr/bin/env python3
"""Inventories that grow one dimension at a time, for issue #13's "linear in every
dimension" (scripts/bench-whole-process.sh dimensions). Deterministic: item i is a function
of i. Each writes a Kubernetes List (JSON) to stdout.

  scripts/gen-dimensions.py DIMENSION N

  crbs        N ClusterRoleBindings, each a user to view, edit or admin
  subjects    one RoleBinding (edit) with N User subjects
  sas         N ServiceAccounts in one namespace, every tenth bound to view, and a user with
              edit there (RB005 grades every one; token edges by name)
  aggregated  one ClusterRole aggregating N labelled ClusterRoles, bound to a user
  sasgroups   N ServiceAccounts over 200 namespaces, `system:serviceaccounts:NS` bound to
              edit in each (every ServiceAccount there may become every other one)
  rules       one ClusterRole of N rules bound to 50 users
  bound       N namespaces with a ServiceAccount each, where one RoleBinding gives the user
              `alice` and the group `devs` edit (one subject bound in every namespace)
"""
import json
import sys


def rb(ns,name,role,subjects,kind="ClusterRole"):
    return {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":name,"namespace":ns},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":kind,"name":role},"subjects":subjects}
def crb(name,role,subjects):
    return {"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":{"name":name},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":role},"subjects":subjects}
def sa(ns,name): return {"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":name,"namespace":ns}}
def user(n): return {"kind":"User","name":n,"apiGroup":"rbac.authorization.k8s.io"}
def sasub(ns,n): return {"kind":"ServiceAccount","name":n,"namespace":ns}
def group(n): return {"kind":"Group","name":n,"apiGroup":"rbac.authorization.k8s.io"}
if len(sys.argv) != 3:
    sys.exit(__doc__)
dim,n=sys.argv[1],int(sys.argv[2])
items=[]
if dim=="crbs":   # many ClusterRoleBindings, each a user to view/edit
    for i in range(n): items.append(crb(f"crb-{i}", ["view","edit","admin"][i%3], [user(f"u{i}")]))
elif dim=="subjects":  # one RoleBinding with many subjects
    items.append(rb("apps","big","edit",[user(f"u{i}") for i in range(n)]))
elif dim=="sas":  # many ServiceAccounts in one namespace, some with rights, a deployer
    for i in range(n):
        items.append(sa("apps",f"sa-{i}"))
        if i%10==0: items.append(rb("apps",f"rb-{i}","view",[sasub("apps",f"sa-{i}")]))
    items.append(rb("apps","deployer","edit",[user("dev")]))
elif dim=="aggregated":  # many aggregated ClusterRoles into one
    items.append({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"agg":"yes"}}]},"rules":[]})
    for i in range(n):
        items.append({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":f"part-{i}","labels":{"agg":"yes"}},"rules":[{"apiGroups":[f"g{i}.io"],"resources":["things"],"verbs":["get","list"]}]})
    items.append(crb("agg-b","agg",[user("reader")]))
elif dim=="sasgroups":  # SAs spread over namespaces, group system:serviceaccounts bound to edit in many ns
    for i in range(n):
        items.append(sa(f"ns-{i%200}",f"sa-{i}"))
    for j in range(200):
        items.append(rb(f"ns-{j}",f"all-sa","edit",[group(f"system:serviceaccounts:ns-{j}")]))
elif dim=="rules":  # one Role with many rules bound to many users
    items.append({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"wide"},"rules":[{"apiGroups":[f"g{i}.io"],"resources":["things"],"verbs":["get","create"]} for i in range(n)]})
    for j in range(50): items.append(crb(f"w-{j}","wide",[user(f"u{j}")]))
elif dim=="bound":  # one user and one group bound to edit in N namespaces
    for j in range(n):
        items.append(sa(f"ns-{j}","app"))
        items.append(rb(f"ns-{j}","alice-edit","edit",[user("alice"),group("devs")]))
if not items:
    sys.exit("unknown dimension %r\n%s" % (dim, __doc__))
json.dump({"apiVersion":"v1","kind":"List","items":items},sys.stdout)

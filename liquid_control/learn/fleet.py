"""`liquid-control fleet server|client`: federated fine-tuning with Flower; bags stay on the robot.

Each robot runs a client over its own bags (operator corrections, replay): it receives
the global weights, fine-tunes them locally with `finetune` and sends back only its
weights (a 19-neuron policy is ~90 KB of float32), plus a few numbers (how many
correction steps, the names and sha256 of the bags it used; never their content).
The server aggregates with FedAvg (weighted by each client's correction steps),
rejects a client whose architecture differs from the global model's (the sha256 of
its policy config, which fixes every shape and the NCP wiring, and the tensor shapes;
never averaged in), ends a round after ``--round-timeout`` whatever the stragglers do,
and publishes every round as a model directory whose config.json provenance names the
previous global model's sha256, the clients, the rejections and the bytes sent and
received. Plain gRPC on localhost; TLS with ``--certificates`` / ``--root-certificates``
(docs/learning.md). Built on Flower's gRPC server/client API (``flwr.server.start_server``,
``flwr.client.start_client``; flwr 1.42, deprecated there in favour of SuperLink/SuperNode
deployments, which need a Flower app project per deployment).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def architecture(meta: dict[str, Any]) -> str:
    """sha256 of a model's canonical policy config: equal exactly when every shape and the
    wiring (drawn from its seed) are equal, so the weights can be averaged."""
    text = json.dumps(meta["policy"], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def model_arrays(model_dir: str | Path) -> tuple[list[str], list[np.ndarray]]:
    """Tensor names (sorted) and float32 arrays of a verified model directory."""
    from liquid_control.interface.model_dir import load_model

    weights = load_model(model_dir).weights
    names = sorted(weights)
    return names, [weights[n] for n in names]


def save_arrays(template: str | Path, names: list[str], arrays: list[np.ndarray], out: Path):
    """Save ``arrays`` as a model dir with ``template``'s architecture (config.json + sha256)."""
    import torch

    from liquid_control.core.torch_backend import load_policy
    from liquid_control.learn.models import save_model

    policy = load_policy(template)
    state = {
        n: torch.from_numpy(np.ascontiguousarray(a)) for n, a in zip(names, arrays, strict=True)
    }
    policy.load_state_dict(state)
    return save_model(policy, out, policy.config.robot.value)


def _nbytes(parameters) -> int:
    return sum(len(t) for t in parameters.tensors)


def _strategy_class():
    """FedAvg that checks architectures, counts bytes and publishes each round (lazy flwr)."""
    from flwr.common import parameters_to_ndarrays
    from flwr.server.strategy import FedAvg

    class FleetFedAvg(FedAvg):
        """FedAvg over the clients whose architecture matches the global model's."""

        def __init__(self, parent: Path, out: Path, steps: int, **kwargs) -> None:
            from liquid_control.interface.model_dir import read_meta

            self.parent, self.out, self.steps = parent, out, steps
            self.meta = read_meta(parent)
            self.arch = architecture(self.meta)
            self.names, arrays = model_arrays(parent)
            self.shapes = [a.shape for a in arrays]
            self.global_dir = parent
            self.rounds: list[dict[str, Any]] = []
            self.sent: dict[int, int] = {}
            from flwr.common import ndarrays_to_parameters

            super().__init__(initial_parameters=ndarrays_to_parameters(arrays), **kwargs)

        def configure_fit(self, server_round, parameters, client_manager):
            instructions = super().configure_fit(server_round, parameters, client_manager)
            for _, ins in instructions:
                ins.config.update(round=server_round, arch=self.arch, steps=self.steps)
            self.sent[server_round] = sum(_nbytes(ins.parameters) for _, ins in instructions)
            return instructions

        def _check(self, res) -> str:
            """'' when a client's result can be averaged, else why not."""
            arch = res.metrics.get("arch")
            if arch != self.arch:
                return (
                    f"architecture {str(arch)[:12]}... differs from the global {self.arch[:12]}..."
                )
            arrays = parameters_to_ndarrays(res.parameters)
            shapes = [a.shape for a in arrays]
            if shapes != self.shapes:
                return f"tensor shapes {shapes[:3]}... differ from the global model's"
            if not all(np.isfinite(a).all() for a in arrays):
                return "weights are not finite"
            return ""

        def aggregate_fit(self, server_round, results, failures):
            accepted, rejected = [], []
            for proxy, res in results:
                reason = self._check(res)
                if reason:
                    rejected.append({"client": proxy.cid, "reason": reason})
                    print(
                        f"round {server_round}: rejected client {proxy.cid}: {reason}", flush=True
                    )
                else:
                    accepted.append((proxy, res))
            received = sum(_nbytes(res.parameters) for _, res in results)
            record: dict[str, Any] = {
                "round": server_round,
                "bytes_sent": self.sent.get(server_round, 0),
                "bytes_received": received,
                "accepted": len(accepted),
                "rejected": rejected,
                "failures": len(failures),
                "clients": [
                    {
                        "client": proxy.cid,
                        "num_examples": res.num_examples,
                        "bags": json.loads(str(res.metrics.get("bags", "[]"))),
                        "loss_before": json.loads(str(res.metrics.get("loss_before", "{}"))),
                        "loss_after": json.loads(str(res.metrics.get("loss_after", "{}"))),
                    }
                    for proxy, res in accepted
                ],
            }
            parameters, metrics = (None, {})
            if accepted:
                parameters, metrics = super().aggregate_fit(server_round, accepted, failures)
            if parameters is not None:
                record["model"] = str(self._publish(server_round, parameters, record))
            self.rounds.append(record)
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "rounds.json").write_text(json.dumps(self.rounds, indent=1))
            print(
                f"round {server_round}: {len(accepted)} averaged, {len(rejected)} rejected, "
                f"{len(failures)} failed; sent {record['bytes_sent']} B, received {received} B",
                flush=True,
            )
            return parameters, metrics

        def _publish(self, server_round: int, parameters, record: dict) -> Path:
            from liquid_control.interface.model_dir import read_meta, sha256_file, write_meta

            out = self.out / f"round_{server_round:03d}"
            save_arrays(self.parent, self.names, parameters_to_ndarrays(parameters), out)
            previous = read_meta(self.global_dir)
            meta = read_meta(out)
            meta["provenance"] = {
                "kind": "fleet",
                "strategy": "fedavg",
                "round": server_round,
                "parent": {
                    "path": str(self.global_dir),
                    "weights_sha256": previous["weights_sha256"],
                    "config_sha256": sha256_file(Path(self.global_dir) / "config.json"),
                },
                **{k: record[k] for k in ("clients", "rejected", "failures")},
                **{k: record[k] for k in ("bytes_sent", "bytes_received")},
            }
            write_meta(out, meta)
            self.global_dir = out
            return out

    return FleetFedAvg


def serve(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Run the Flower server for ``args.rounds`` rounds; return the per-round records."""
    import flwr as fl

    strategy = _strategy_class()(
        Path(args.model),
        Path(args.out),
        args.steps,
        fraction_fit=1.0,
        fraction_evaluate=0.0,
        min_fit_clients=args.clients,
        min_available_clients=args.clients,
        accept_failures=True,
    )
    certificates = None
    if args.certificates:
        certificates = tuple(Path(p).read_bytes() for p in args.certificates)
    fl.server.start_server(
        server_address=args.address,
        config=fl.server.ServerConfig(num_rounds=args.rounds, round_timeout=args.round_timeout),
        strategy=strategy,
        certificates=certificates,
    )
    return strategy.rounds


def _client_class():
    import flwr as fl

    class FleetClient(fl.client.NumPyClient):
        """Fine-tunes the global weights on this robot's bags; only weights leave."""

        def __init__(self, args: argparse.Namespace) -> None:
            from liquid_control.interface.model_dir import read_meta

            self.args, self.rounds = args, 0
            self.arch = architecture(read_meta(args.model))
            self.names, self.local = model_arrays(args.model)

        def get_parameters(self, config):  # noqa: D102
            return self.local

        def fit(self, parameters, config):  # noqa: D102
            from liquid_control.learn.finetune import finetune

            a = self.args
            steps = a.steps if a.steps is not None else int(config["steps"])
            shapes_match = [p.shape for p in parameters] == [w.shape for w in self.local]
            with tempfile.TemporaryDirectory(prefix="fleet_client_") as tmp:
                start = Path(a.model)
                if shapes_match and config.get("arch") == self.arch:
                    start = save_arrays(a.model, self.names, parameters, Path(tmp) / "global")
                prov = finetune(
                    start,
                    a.bags,
                    Path(tmp) / "local",
                    replay=a.replay,
                    interventions_only=a.interventions_only,
                    correction_weight=a.correction_weight,
                    steps=steps,
                    minutes=a.minutes,
                    overrides=[f"--optim.threads={a.threads}"],
                    progress=False,
                )
                _, arrays = model_arrays(Path(tmp) / "local")
                if a.keep:  # this robot's own fine-tune of the round, kept locally
                    keep = Path(a.keep) / f"round_{int(config.get('round', 0)):03d}"
                    shutil.rmtree(keep, ignore_errors=True)
                    shutil.copytree(Path(tmp) / "local", keep)
            bags = [{k: b[k] for k in ("path", "sha256", "role", "steps")} for b in prov["bags"]]
            for b in bags:
                b["path"] = Path(b["path"]).name  # names only: where it lives stays private
            examples = prov["correction_steps"] or sum(b["steps"] for b in bags)
            metrics = {
                "arch": self.arch,
                "bags": json.dumps(bags),
                "loss_before": json.dumps(prov["loss_before"]),
                "loss_after": json.dumps(prov["loss_after"]),
            }
            self.rounds += 1
            return arrays, int(examples), metrics

    return FleetClient


def run_client(args: argparse.Namespace) -> int:
    """Connect to the server and serve fit requests until it ends the run; return rounds."""
    import flwr as fl
    import grpc

    root = Path(args.root_certificates).read_bytes() if args.root_certificates else None
    client = _client_class()(args)
    try:
        fl.client.start_client(
            server_address=args.server,
            client=client.to_client(),
            root_certificates=root,
            insecure=root is None,
            max_wait_time=args.connect_timeout,
        )
    except grpc.RpcError as error:
        if not client.rounds:  # never served: the server is unreachable or refused us
            raise OSError(f"cannot reach the fleet server at {args.server}: {error}") from None
        # the server closed the connection after its last round, before saying goodbye
    print(f"fleet client: served {client.rounds} round(s); the server ended the run", flush=True)
    return client.rounds


def build_parser() -> argparse.ArgumentParser:
    """The `fleet` argument parser (server and client subcommands)."""
    p = argparse.ArgumentParser(
        prog="liquid-control fleet",
        description="Federated fine-tuning with Flower: robots keep their bags, only weights "
        "travel. See docs/learning.md for TLS.",
    )
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("server", help="aggregate (FedAvg) and publish each round")
    s.add_argument("model", help="the initial global model directory")
    s.add_argument("--out", required=True, help="round_NNN/ model dirs + rounds.json go here")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--clients", type=int, default=2, help="clients per round (waits for them)")
    s.add_argument("--round-timeout", type=float, default=1800.0, help="seconds (1800)")
    s.add_argument("--steps", type=int, default=100, help="finetune batches per client round")
    s.add_argument("--address", default="0.0.0.0:8080", help="listen address (0.0.0.0:8080)")
    s.add_argument(
        "--certificates",
        nargs=3,
        metavar=("CA_CERT", "SERVER_CERT", "SERVER_KEY"),
        help="PEM files: enable TLS",
    )
    c = sub.add_parser("client", help="fine-tune on this robot's bags when asked")
    c.add_argument("model", help="this robot's model directory (its architecture)")
    c.add_argument("--server", required=True, help="server address host:port")
    c.add_argument("--bags", nargs="+", required=True, help="this robot's bags")
    c.add_argument("--replay", nargs="*", default=[], help="replay bags (weight 1)")
    c.add_argument("--interventions-only", action="store_true")
    c.add_argument("--correction-weight", type=float, default=4.0)
    c.add_argument("--steps", type=int, help="finetune batches (default: the server's)")
    c.add_argument("--minutes", type=float, default=15.0, help="finetune cap per round")
    c.add_argument("--threads", type=int, default=1, help="torch threads")
    c.add_argument("--keep", help="keep each round's local fine-tune here (round_NNN/)")
    c.add_argument("--root-certificates", help="the CA certificate (PEM): TLS")
    c.add_argument(
        "--connect-timeout", type=float, default=60.0, help="give up connecting after (60 s)"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of `liquid-control fleet`."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        import flwr  # noqa: F401
    except ImportError:
        print(
            "liquid-control fleet needs Flower: pip install -e .[fleet] (flwr==1.42.0)",
            file=sys.stderr,
        )
        return 2
    try:
        if args.role == "server":
            rounds = serve(args)
            print(json.dumps([{k: r[k] for k in r if k != "clients"} for r in rounds], indent=1))
        else:
            run_client(args)
    except (ValueError, OSError) as err:
        print(f"liquid-control fleet {args.role}: {err}", file=sys.stderr)
        return 2
    if args.role == "client":
        # flwr 1.42's gRPC client leaves a non-daemon thread behind once the server has
        # gone, so a normal exit would wait forever: leave now, everything is written
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())

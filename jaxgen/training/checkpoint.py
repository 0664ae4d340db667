"""Orbax checkpoints of the whole train state, restored against its abstract shape.

Checkpoints live in ``<workdir>/checkpoints/<step>``; Orbax writes each one to
a temporary directory and renames it, so a crash mid-save never leaves a
half-written checkpoint behind. Nothing is pickled: restore targets are
``jax.eval_shape`` of the freshly initialised state, so a checkpoint that
does not fit the config is reported before anything is overwritten.

The directory may be anywhere ``etils.epath`` and Orbax reach (``gs://``, local).
A state field that older checkpoints lack (``ADDED_LATER``: ``health``) is
restored as zeros. Runs on the streaming data path also save grain's iterator
state, as a second item (``data``) of the same checkpoint.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import grain
import orbax.checkpoint as ocp

from jaxgen.errors import JaxgenError
from jaxgen.training import workdir as workdir_lib

ADDED_LATER = ('health',)  # fields restored as zeros from checkpoints written before them
STATE, DATA = 'default', 'data'  # the items of a checkpoint: the train state, the data stream


def _path_str(path) -> str:
    return '/'.join(str(getattr(k, 'key', getattr(k, 'name', getattr(k, 'idx', k))))
                    for k in path)


def _shapes(tree) -> dict[str, tuple]:
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return {_path_str(p): tuple(getattr(x, 'shape', np.shape(x))) for p, x in flat}


def _with_sharding(template: Any) -> Any:
    """``template`` with a sharding on every leaf: its own, else this process's
    first device. A checkpoint saved on other devices (a pod slice, 8 GPUs)
    then restores here, since Orbax reshards to the target it is given."""
    default = jax.sharding.SingleDeviceSharding(jax.local_devices()[0])

    def leaf(x):
        sharding = getattr(x, 'sharding', None) or default
        return jax.ShapeDtypeStruct(np.shape(x), x.dtype, sharding=sharding)
    return jax.tree.map(leaf, template)


class Checkpoints:
    """The checkpoints of one workdir. Creates nothing until the first save."""

    def __init__(self, workdir: str | os.PathLike, max_to_keep: int = 3):
        self.directory = workdir_lib.resolve(workdir) / 'checkpoints'
        self.max_to_keep = max_to_keep
        self._manager: ocp.CheckpointManager | None = None

    def _open(self, create: bool) -> ocp.CheckpointManager | None:
        if self._manager is None:
            if not create and not self.directory.is_dir():
                return None
            options = ocp.CheckpointManagerOptions(max_to_keep=self.max_to_keep,
                                                   create=create)
            self._manager = ocp.CheckpointManager(
                self.directory, options=options,
                item_handlers={STATE: ocp.StandardCheckpointHandler(),
                               DATA: grain.checkpoint.CheckpointHandler()})
        return self._manager

    def latest_step(self) -> int | None:
        manager = self._open(create=False)
        return None if manager is None else manager.latest_step()

    def check_fits(self, step: int, template: Any) -> None:
        """Raises a one-line JaxgenError if checkpoint ``step`` does not fit ``template``."""
        manager = self._open(create=False)
        hint = ('start a new --workdir, or run with the config this workdir was '
                'trained with (its config.json)')
        try:
            stored = _shapes(manager.item_metadata(step)[STATE])
        except Exception as e:  # unreadable metadata is a mismatch too
            raise JaxgenError(f'checkpoint {self.directory}/{step} cannot be read '
                              f'({type(e).__name__}); {hint}') from e
        wanted = _shapes(template)
        later = tuple(f'{f}/' for f in ADDED_LATER if f not in {n.split('/')[0] for n in stored})
        wanted = {k: v for k, v in wanted.items() if not k.startswith(later)}
        for name in sorted(set(stored) | set(wanted)):
            if name not in stored:
                raise JaxgenError(f'checkpoint {self.directory}/{step} has no {name}, '
                                  f'which the config needs; {hint}')
            if name not in wanted:
                raise JaxgenError(f'checkpoint {self.directory}/{step} holds {name}, '
                                  f'which the config does not have; {hint}')
            if stored[name] != wanted[name]:
                raise JaxgenError(
                    f'checkpoint {self.directory}/{step} does not fit the config: '
                    f'{name} has shape {stored[name]} there but {wanted[name]} in the '
                    f'config; {hint}')

    def restore(self, step: int, template: Any) -> Any:
        """Restores ``step`` into ``template``'s structure. A field that is empty in
        the template and absent from the checkpoint (one written before the field
        existed, e.g. ``ema`` with no averaged players) is left empty."""
        manager = self._open(create=False)
        template = _with_sharding(template)
        if not dataclasses.is_dataclass(template):
            return self._restore(manager, step, template)
        fields = {f.name: getattr(template, f.name) for f in dataclasses.fields(template)}
        stored = manager.item_metadata(step)[STATE]
        absent = {k: v for k, v in fields.items()
                  if k not in stored and (k in ADDED_LATER or not jax.tree_util.tree_leaves(v))}
        present = {k: v for k, v in fields.items() if k not in absent}
        restored = self._restore(manager, step, present)
        zeros = jax.tree.map(lambda x: jax.device_put(jnp.zeros(x.shape, x.dtype), x.sharding),
                             absent)
        return template.replace(**restored, **zeros)

    @staticmethod
    def _restore(manager, step: int, template: Any) -> Any:
        args = ocp.args.Composite(**{STATE: ocp.args.StandardRestore(template)})
        return manager.restore(step, args=args)[STATE]

    def has_data_state(self, step: int) -> bool:
        return (self.directory / str(step) / DATA).exists()

    def restore_data(self, step: int, iterator: Any) -> Any:
        """Sets grain ``iterator`` to the state saved with ``step``; returns the state."""
        manager = self._open(create=False)
        args = ocp.args.Composite(**{DATA: grain.checkpoint.CheckpointRestore(iterator)})
        manager.restore(step, args=args)
        return iterator.get_state()

    def all_steps(self) -> list[int]:
        manager = self._open(create=False)
        return [] if manager is None else sorted(manager.all_steps())

    def save(self, step: int, state: Any, force: bool = False, iterator: Any = None) -> None:
        """Saves ``state`` (and grain ``iterator``'s state, when given) as ``step``."""
        manager = self._open(create=True)
        if step in (manager.all_steps() or []):
            return
        items = {STATE: ocp.args.StandardSave(state)}
        if iterator is not None:
            items[DATA] = grain.checkpoint.CheckpointSave(iterator)
        manager.save(step, args=ocp.args.Composite(**items), force=force)

    def wait(self) -> None:
        if self._manager is not None:
            self._manager.wait_until_finished()

    def close(self) -> None:
        if self._manager is not None:
            self._manager.wait_until_finished()
            self._manager.close()
            self._manager = None

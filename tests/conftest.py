"""Shared test settings: a persistent XLA compilation cache.

Most tests are compile-bound and many compile the same programs (the small
ring GAN, the digits DCGAN, a resumed run's step). JAX's persistent cache lets a
program compiled once be loaded by later tests, by the other pytest-xdist
worker and by the subprocesses of tests/test_parallel.py. It lives under
``$JAXGEN_CACHE_DIR`` (CI points that inside the checkout) or the system's temp
folder. Results do not depend on it: the cache is keyed by the program and the
compiler's flags.

Tests also compile with LLVM's optimisation level 0
(``--xla_backend_optimization_level=0``) and with XLA:CPU's older elemental emitter
for fused loops instead of its MLIR fusion emitters
(``--xla_cpu_use_fusion_emitters=false``): XLA's own graph optimisations still
run, so the programs compute the same things, and compiling them is 2-3x faster
for each flag (StarGAN's per-term Jacobian: 5.0 s -> 1.6 s for the second) while
the few steps each test runs barely feel the slower code. They also compile each
program's machine code as one piece (``--xla_cpu_parallel_codegen_split_count=1``):
XLA:CPU otherwise splits it for a thread pool, which two pytest workers on two cores
only contend for (the DCGAN step: 0.55 -> 0.45 s to compile; a mix of 170 tests under
``-n 2``: 105-116 -> 99 s, docs/results/foundation.md). Benchmarks and training never
see these flags.

The fusion-emitter flag changes how XLA fuses loops, so two *different* programs
that agree bit for bit with XLA's fusion emitters (a stream and the on-device draw,
many seeds in ``lax.map`` and their separate runs) can differ in the last bit without
them, and Adam turns a last-bit difference in a near-zero gradient into a whole
step. A test of such a claim is marked ``@pytest.mark.exact_across_programs``: it runs
in a child pytest at LLVM -O0 with the fusion emitters (``run_in_child``), one child for
all the marked tests of the session, and reports that child's outcome. Under XLA's own
default (-O2) such claims can fail in the last bit: one ulp in one of 16 biases after 6
steps of the many-seed test (docs/results/scale_and_speed.md).
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

import jax
import pytest

CACHE = os.path.join(os.environ.get('JAXGEN_CACHE_DIR') or tempfile.gettempdir(),
                     'jax-compilation-cache')
IN_CHILD = os.environ.get('JAXGEN_TEST_EXACT_CHILD') == '1'
FLAGS = ' --xla_backend_optimization_level=0 --xla_cpu_parallel_codegen_split_count=1' + (
    '' if IN_CHILD else ' --xla_cpu_use_fusion_emitters=false')
os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') + FLAGS).strip()
os.environ['JAX_COMPILATION_CACHE_DIR'] = CACHE  # for the tests' subprocesses
os.environ['JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS'] = '0.2'
jax.config.update('jax_compilation_cache_dir', CACHE)
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.2)


# The slow tier: long integration runs, each of whose properties a faster test also
# checks (named after each). CI's command (python -m pytest -q -n 2) leaves them out to
# stay under its 10-minute budget on 2 cores; python -m pytest -q -n 2 -m slow runs them.
SLOW = {
    'test_winograd.py::test_second_order_and_forward_mode_agree_in_float64[shape0]':
        'the same test on [shape1] (XLA\'s input gradient) and [shape2] (Winograd\'s, a '
        'partial tile); test_the_kernel_gradient_equals_autodiffs_in_float64[shape0]',
    'test_winograd.py::test_a_models_gradients_agree_with_and_without_the_speedups[progan]':
        '[stylegan] (the same discriminator and equalised 3x3 layers, a second-order '
        'penalty through them), test_equal_conv_takes_it_inside_the_cpu_speedups_only, '
        'test_second_order_and_forward_mode_agree_in_float64',
    'test_dcgan_residual.py::test_residual_stages_add_blocks_before_the_relu_of_the_first_'
    'resolutions[shape0-2-sides0]':
        'the same test with 3 stages at 64 px (the first two resolutions included) and '
        '1 stage at 28 px',
    'test_cli.py::test_sigterm_saves_a_checkpoint_and_the_same_command_resumes':
        'test_train.py::test_killed_and_resumed_run_matches_uninterrupted_run, test_cli SIGKILL',
    'test_infogan.py::test_infogan_config_trains_evaluates_and_draws_the_paper_figure':
        'test_infogan.py::test_the_evaluation_matches_q_s_categories_to_labels_and_correlates_'
        'the_codes, test_bundles.py [infogan] (its pictures), test_pictures.py (information and '
        'losses), test_evaluation_suite.py (eval.jsonl), test_forward_mode.py [dcgan] and '
        'test_infogan.py (its networks and terms)',
    'test_infogan.py::test_the_authors_variant_trains_and_samples_unit_pixels':
        'test_infogan.py::test_the_config_variants_and_a_bad_variant_is_one_line (its '
        'settings), test_infogan.py::test_leak_sets_the_slope_of_d_and_q_and_the_data_scale_'
        'sets_g_s_output (slow too; a sigmoid generator: test_models.py)',
    'test_infogan.py::test_before_its_start_the_information_term_leaves_the_gan_step_and_'
    'after_it_the_infogan_step': 'test_objective_contracts.py (scheduled terms)',
    'test_infogan.py::test_lambda_zero_gives_exactly_the_gan_step': 'test_objective_values.py',
    'test_infogan.py::test_leak_sets_the_slope_of_d_and_q_and_the_data_scale_sets_g_s_output':
        'test_forward_mode.py, test_models.py',
    'test_gan_family.py::test_cgan_fgan_and_unrolled_configs_train':
        'test_forward_mode.py (every config builds and differentiates)',
    'test_gan_family.py::test_spectral_norm_bounds_the_discriminator_and_trains':
        'test_forward_mode.py (dcgan_wgan_gp_r1_spectral_norm)',
    'test_aae.py::test_aae_config_trains_and_draws_latents_over_the_prior':
        'test_aae.py::test_three_phases_move_the_encoder_twice_and_the_decoder_once',
    'test_aae.py::test_a_player_loss_optimizer_gives_the_encoder_s_generator_phase_its_own_state':
        'test_rule_steps.py',
    'test_parallel.py::test_eight_devices_match_one_device_with_global_batchnorm':
        'test_parallel.py::test_two_processes_train_checkpoint_resume_and_match_one',
    'test_parallel.py::test_fused_calls_match_single_steps_and_stop_short_of_periodic_events':
        'test_train_step.py (fused steps), test_periodic_events.py',
    'test_dynamics.py::test_simultaneous_unrolled_unrolls_from_the_discriminator_before_its_step':
        'test_rule_steps.py',
    'test_dynamics.py::test_unrolled_with_zero_steps_is_the_plain_rule_exactly':
        'test_rule_steps.py',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[cyclegan_no_pool]':
        'its networks through [stargan] (ResNet G, InstanceNorm), test_conv.py, test_deconv.py',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[pix2pix]':
        'test_conv.py and test_deconv.py (every derivative of its layers), [stargan]',
    'test_cyclegan.py::test_pools_fill_trace_once_and_a_restored_run_continues_bit_exactly':
        'test_history.py (pools through the loop, killed and resumed), test_pix2pix.py '
        '(a translation step traced once and restored bit-exactly)',
    'test_stargan.py::test_the_generator_moves_on_every_fifth_step_only':
        'test_rule_extensions.py::test_a_phase_every_k_steps_moves_only_on_the_last_step_of_'
        'each_block',
    'test_swd.py::test_equals_float64_numpy_reference[64-3-3]':
        'the same test at [28-1-8] (the definition), test_swd.py one-line errors (channels)',
    'test_ppl_diversity.py::test_linear_generator_in_w_equals_its_analytic_value[end]':
        '[full] (the same computation at other t)',
    'test_progan.py::test_a_staged_run_killed_in_the_middle_of_a_fade_in_resumes_bit_exactly':
        'test_stages.py (a fade-in grown at a boundary, killed at it and mid-stage), '
        'test_progan.py::test_fade_in_is_the_lower_resolution_at_alpha_0_and_the_new_network_at_1'
        ' (alpha is a function of the batch step)',
    'test_progan.py::test_a_run_killed_in_the_middle_of_a_fade_in_resumes_bit_exactly':
        'the same as the staged case above',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[stargan]':
        'test_conv.py and test_deconv.py (every derivative of its layers, the patch matmul '
        'included), [progan] (a full GAN through forward mode)',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[stylegan]':
        '[progan] (the same discriminator and equalised layers), test_stylegan.py (AdaIN, '
        'modulation, noise values)',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[infogan]':
        '[dcgan] and [cgan] (the same layer kinds)',
    'test_stream.py::test_a_staged_streaming_run_killed_mid_stage_equals_the_staged_on_'
    'device_run': 'test_stages.py (a staged run killed mid-stage), test_stream.py::test_a_'
                  'preempted_streaming_run_resumes_where_the_on_device_run_goes',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[text2image]':
        '[cgan] (a conditional DCGAN-style G and D: the same layer kinds), [text_encoder] '
        '(its frozen encoder), test_text2image.py (every term\'s gradient reach)',
    'test_forward_mode.py::test_jvp_and_linearize_through_every_model[puzzlegan]':
        '[dcgan] (the same convolution, transposed convolution and BatchNorm layers), '
        'test_conv.py and test_deconv.py (every derivative), test_puzzlegan.py (reach)',
    'test_data.py::test_fashion_mnist_prepared_after_mnist_in_one_cache_is_fashion_mnist':
        'test_data.py::test_each_dataset_is_prepared_from_its_own_download_folder (the fix), '
        'test_data.py::test_a_fashion_cache_built_from_mnist_files_is_refused, '
        'test_data.py::test_real_mnist (the real TFDS preparation)',
    'test_stream.py::test_stream_and_device_paths_train_identically':
        'test_stream.py::test_a_preempted_streaming_run_resumes_where_the_on_device_run_goes '
        '(the stream path equals the device path), test_train_step.py (fused calls)',
    'test_infogan_invariant.py::test_invariant_term_is_a_bound_and_reaches_g_and_q_and_the_'
    'trunk_only_if_configured[False]': 'the same test at [True] (the bound, the reach of G '
                                       'and Q), test_infogan.py reach at [False] (the trunk)',
    'test_stream.py::test_a_sigkilled_streaming_run_resumes_bit_exactly':
        'test_stream.py::test_a_preempted_streaming_run_resumes_where_the_on_device_run_goes '
        '(the stream\'s saved position, in process), test_cli.py SIGKILL (a killed process '
        'resumes from its last checkpoint)',
}


def pytest_configure(config):
    config.addinivalue_line('markers', 'exact_across_programs: compares two programs bit for '
                            'bit; runs in a child pytest with XLA:CPU fusion emitters')


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup reads the groups
def pytest_collection_modifyitems(config, items):
    del config
    for item in items:
        name = item.nodeid.split('/')[-1].split('@')[0]  # xdist's loadgroup adds @group
        if name in SLOW or name.split('[')[0] in SLOW:  # one case, or every case
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker('exact_across_programs') and not IN_CHILD:
            item.add_marker(pytest.mark.xdist_group('exact'))
            item.setup = lambda: None  # the child sets up the fixtures
            item.runtest = lambda item=item: run_in_child(item)


_CHILD_OUTCOMES: dict = {}  # 'classname::name' (JUnit's) -> failure text or None


def run_in_child(item) -> None:
    """Runs ``item`` (with every marked test selected in this session, in one child: one
    start and one import for all of them) with XLA:CPU's fusion emitters, and fails with
    the child's report if it failed there."""
    if not _CHILD_OUTCOMES:
        names = [i.nodeid.split('@')[0] for i in item.session.items
                 if i.get_closest_marker('exact_across_programs')]
        report = os.path.join(tempfile.mkdtemp(), 'report.xml')
        env = {k: v for k, v in os.environ.items() if k != 'XLA_FLAGS'}
        env['JAXGEN_TEST_EXACT_CHILD'] = '1'
        child = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                                '-m', 'slow or not slow', f'--junitxml={report}', *names],
                               env=env, cwd=str(item.config.rootpath), check=False,
                               capture_output=True, text=True, timeout=1200)
        if not os.path.exists(report):
            pytest.fail(f'the child wrote no report:\n{child.stdout[-3000:]}'
                        f'{child.stderr[-3000:]}')
        for case in ElementTree.parse(report).getroot().iter('testcase'):
            problems = [c for c in case if c.tag in ('failure', 'error', 'skipped')]
            _CHILD_OUTCOMES[f'{case.get("classname")}::{case.get("name")}'] = (
                f'{problems[0].tag}: {problems[0].get("message")}\n'
                f'{problems[0].text or ""}'[-4000:] if problems else None)
    path, *classes, name = item.nodeid.split('@')[0].split('::')
    key = '.'.join([path.removesuffix('.py').replace('/', '.'), *classes]) + f'::{name}'
    if key not in _CHILD_OUTCOMES:
        pytest.fail(f'the child did not run {item.nodeid}')
    if _CHILD_OUTCOMES[key] is not None:
        pytest.fail(f'in the child (fusion emitters): {_CHILD_OUTCOMES[key]}', pytrace=False)

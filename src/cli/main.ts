/**
 * The `berth` command line: one binary, sub-commands per role.
 */
import { Command } from 'commander';
import { BERTH_VERSION } from '../version.ts';
import { serverCommand } from './server-command.ts';
import { upCommand } from './up-command.ts';
import { agentCommand } from './agent-command.ts';
import { joinCommand } from './join-command.ts';
import { simCommand } from './sim-command.ts';
import { imageCommand } from './image-command.ts';
import { labCommand } from './lab-command.ts';

const program = new Command();
program
  .name('berth')
  .description('Berth: a workload orchestrator that speaks the Kubernetes API')
  .version(BERTH_VERSION);
program.addCommand(upCommand());
program.addCommand(serverCommand());
program.addCommand(agentCommand());
program.addCommand(joinCommand());
program.addCommand(simCommand());
program.addCommand(imageCommand());
program.addCommand(labCommand());

await program.parseAsync(process.argv);

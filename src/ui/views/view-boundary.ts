/**
 * Around the routed view: a view that throws (in its render or an effect) shows what failed and a way
 * back, instead of leaving the page frozen at its last picture — as the map did when its graph threw.
 * A new route starts the view afresh.
 */
import { Component, h, type ComponentChildren } from 'preact';

export class ViewBoundary extends Component<{ route: string; children?: ComponentChildren }, { error?: Error; route?: string }> {
  static override getDerivedStateFromProps(props: { route: string }, state: { error?: Error; route?: string }) {
    return props.route !== state.route ? { error: undefined, route: props.route } : null;
  }

  override componentDidCatch(error: Error) {
    console.error('view failed', error);
    this.setState({ error });
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return h('div', { class: 'note', 'data-testid': 'view-error' },
      `This view failed: ${error.message} `,
      h('button', { onClick: () => this.setState({ error: undefined }) }, 'Try again'));
  }
}
